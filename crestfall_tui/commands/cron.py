"""`crestfall-tui cron ...`: pg_cron's jobs and their history from the command line, for
scripts and runbooks (the Cron section's headless twin). Every verb prints lines for
people, or JSON with `--json`; a bad schedule, an unknown job, a name taken or a run that
failed is one line on stderr (or the run's outcome) and exit 1. Times are shown in the zone
pg_cron schedules in (`cron.timezone`, GMT on pg_cron 1.4)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import tzinfo
from typing import Any

from crestfall_tui.commands import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, verb_maker
from crestfall_tui.config import StackConfig
from crestfall_tui.services.cron import Cron
from crestfall_tui.services.units import parse_duration


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    """`crestfall-tui cron <verb> ...` on the command line."""
    cron = commands.add_parser("cron", help="pg_cron jobs and their runs (list, add, run, "
                                            "history, prune, ...)")
    verb = verb_maker(cron, "verb", "job", "the job's name (or id)", common)

    verb("list", "every job: schedule, next runs, last run, runs and failures in 24 h",
         subject_too=False)
    verb("show", "one job, with its next runs and its health")
    add = verb("add", "schedule a job (pg_cron checks the schedule); --database names the "
                      "database it runs in (default: pg_cron's own)")
    add.add_argument("schedule", help="5 fields, as `*/5 * * * *`, or @daily and the like")
    _command_options(add, required=True)
    edit = verb("edit", "change a job's schedule, command or user (pg_cron checks the "
                        "schedule); --database moves it to another database")
    edit.add_argument("--schedule", help="the new schedule")
    _command_options(edit, required=False)
    verb("enable", "let the job run on its schedule")
    verb("disable", "keep the job, but run it no more")
    verb("remove", "unschedule the job (its history stays)")
    verb("run", "run the job's command now, as its user in its database, logged as a "
                "manual run; waits and prints the outcome (exit 1 when it failed; "
                "Ctrl-C cancels it on the server)")
    verb("dry-run", "EXPLAIN each statement of the job's command as its user in its "
                    "database, rolled back (exit 1 when one cannot be planned)")
    history = verb("history", "runs newest first (of one job, or all), manual runs "
                              "marked", subject_too=False)
    history.add_argument("job", nargs="?", help="the job's name (or id); all when left out")
    history.add_argument("--failed", action="store_true", help="only the failed runs")
    history.add_argument("--since", metavar="DURATION", help="only runs started within, "
                         "as 24h or 7d")
    history.add_argument("--limit", type=int, default=50)
    verb("settings", "pg_cron's settings and where each was set", subject_too=False)
    index = verb("index", "whether the history indexes are there (and the statements "
                          "that make them)", subject_too=False)
    index.add_argument("--create", action="store_true", help="make them (concurrently)")
    retention = verb("retention", "the history table's size, growth per job, and the "
                                  "clean-up job", subject_too=False)
    retention.add_argument("--install", type=int, metavar="DAYS",
                           help="install (or change) a daily clean-up job keeping DAYS")
    prune = verb("prune", "delete runs older than a while, in batches", subject_too=False)
    prune.add_argument("--older-than", required=True, metavar="DURATION",
                       help="as 30d")


def _command_options(parser: argparse.ArgumentParser, *, required: bool) -> None:
    command = parser.add_mutually_exclusive_group(required=required)
    command.add_argument("-c", "--command", dest="sql", metavar="SQL", help="the SQL to run")
    command.add_argument("-f", "--file", metavar="FILE", help="a file of SQL (- for stdin)")
    parser.add_argument("--user", help="the role the job runs as (default: yours)")


def run(args: argparse.Namespace, stack: StackConfig) -> int:
    """Carry out one verb; exit 1 on a failed operation (raised as a CrestfallError) or a
    failed run."""
    import asyncio

    from crestfall_tui.stack import choose_runtime

    if getattr(args, "file", None) == "-" and sys.stdin.isatty():
        print("crestfall-tui: -f - reads the command from a pipe", file=sys.stderr)
        return EXIT_USAGE
    runtime = choose_runtime(stack).runtime
    # pg_cron lives in one database (cron.database_name); --database is where a job runs.
    cron = Cron(runtime.postgres(read_only=stack.read_only))
    result, zone = asyncio.run(_carry_out(cron, args))
    print(json.dumps(result, indent=2) if args.json else _for_people(args.verb, result, zone))
    failed = (args.verb == "run" and result["status"] != "succeeded") or (
        args.verb == "dry-run" and any(p["problem"] for p in result))
    return EXIT_FAILURE if failed else EXIT_OK


async def _carry_out(cron: Cron, args: argparse.Namespace) -> tuple[Any, tzinfo]:
    try:
        zone = await cron.zone()
        return await _verb(cron, args, zone), zone
    finally:
        await cron.close()


async def _verb(cron: Cron, args: argparse.Namespace, zone: tzinfo) -> Any:
    from crestfall_tui.services import cron_manual, cron_retention

    verb = args.verb
    if verb == "list":
        return [job.to_json(zone) for job in await cron.jobs()]
    if verb == "show":
        return (await cron.job(args.job)).to_json(zone)
    if verb == "add":
        return (await cron.add(args.job, args.schedule, _command(args),
                               database=args.database, username=args.user)).to_json(zone)
    if verb == "edit":
        command = _command(args) if args.sql is not None or args.file else None
        return (await cron.update(args.job, schedule=args.schedule, command=command,
                                  database=args.database, username=args.user)).to_json(zone)
    if verb in ("enable", "disable"):
        return (await cron.set_active(args.job, verb == "enable")).to_json(zone)
    if verb == "remove":
        return (await cron.remove(args.job)).to_json(zone)
    if verb == "run":
        return (await cron_manual.run_now(cron, args.job)).to_json()
    if verb == "dry-run":
        return [{"statement": p.text, "plan": p.plan, "problem": p.problem}
                for p in await cron_manual.dry_run(cron, await cron.job(args.job))]
    if verb == "history":
        since = parse_duration(args.since) if args.since else None
        page = await cron.history(args.job, failed=args.failed, since=since,
                                  limit=args.limit)
        return [run.to_json() for run in page.runs]
    if verb == "settings":
        return [{"name": n, "value": v, "source": s} for n, v, s in await cron.settings()]
    if verb == "index":
        if args.create:
            return {"created": await cron.create_indexes(), "missing": []}
        return {"created": [], "missing": await cron.missing_indexes()}
    if verb == "retention":
        if args.install is not None:
            await cron_retention.install_cleanup(cron, args.install)
        size = await cron_retention.history_size(cron)
        return {"bytes": size.bytes, "rows_estimate": size.rows,
                "oldest": size.oldest.isoformat() if size.oldest else None,
                "rows_per_day": size.rows_per_day, "bytes_per_day": size.bytes_per_day,
                "per_job": [{"job": job.name or job.id, "runs_24h": runs}
                            for job, runs in size.per_job if runs],
                "cleanup": size.cleanup.to_json(zone) if size.cleanup else None}
    return {"deleted": await cron_retention.prune(cron, parse_duration(args.older_than))}


def _command(args: argparse.Namespace) -> str:
    from crestfall_tui.errors import CrestfallError

    if args.sql is not None:
        return str(args.sql)
    try:
        return sys.stdin.read() if args.file == "-" else open(args.file, encoding="utf-8").read()
    except (OSError, UnicodeDecodeError) as error:
        raise CrestfallError(f"cannot read {args.file}: {error}", title="Cron") from None


def _for_people(verb: str, result: Any, zone: tzinfo) -> str:
    if verb == "list":
        return "\n".join(_job_line(job) for job in result) or "no cron jobs"
    if verb == "history":
        return "\n".join(_run_line(r) for r in result) or "no runs"
    if verb == "run":
        return _run_line(result)
    if verb == "dry-run":
        return "\n\n".join(f"{p['statement']}\n" + (
            p["plan"] or (f"  ! {p['problem']}" if p["problem"] else "  (not planned: "
                          "runs as written)")) for p in result) or "no statements"
    if verb == "prune":
        return f"deleted {result['deleted']:,} run(s)"
    if verb == "settings":
        return "\n".join(f"{s['name']} = {s['value']}  ({s['source']})" for s in result)
    if verb == "index":
        if result["created"]:
            return "made: " + "; ".join(result["created"])
        return ("missing; --create makes them:\n" + "\n".join(result["missing"])
                if result["missing"] else "the history indexes are there")
    if verb == "retention":
        cleanup = result["cleanup"]
        return (f"{result['bytes'] / 2**20:,.1f} MiB, ~{result['rows_estimate']:,} runs, "
                f"oldest {result['oldest'] or '-'}\n"
                f"growing {result['rows_per_day']:,} runs (~{result['bytes_per_day'] / 2**20:,.1f}"
                f" MiB) a day\n" + "".join(f"  {j['job']}: {j['runs_24h']:,} a day\n"
                                            for j in result["per_job"])
                + (f"clean-up: {cleanup['schedule']}  {cleanup['command']}" if cleanup
                   else "no clean-up job (--install DAYS adds one)"))
    return _job_line(result) + f"\n  next ({zone}): " + (
        ", ".join(result["next_runs"]) or "none (disabled)")


def _run_line(run: dict[str, Any]) -> str:
    return (f"{'m' if run['manual'] else ''}{run['id']}  job {run['job_id']}  "
            f"{run['status']:<9} {run['start'] or '-'}  {run['return_message']}")


def _job_line(job: dict[str, Any]) -> str:
    last = job["last_run"]
    said = f"last {last['status']} {last['start']}" if last else "never ran"
    return (f"{job['id']}  {job['name'] or '-'}  {job['schedule']} ({job['schedule_in_words']})"
            f"  {'active' if job['active'] else 'disabled'}  {said}  "
            f"{job['runs_24h']} runs / {job['failures_24h']} failed in 24h  "
            f"{job['username']}@{job['database']}  "
            f"{job['command'].splitlines()[0][:60] if job['command'] else ''}"
            + "".join(f"\n  ! {flag}" for flag in job["health"]))
