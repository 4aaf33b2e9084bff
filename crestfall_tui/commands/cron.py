"""`crestfall-tui cron ...`: pg_cron's jobs and their history from the command line, for
scripts and runbooks (the Cron section's headless twin). Every verb prints lines for
people, or JSON with `--json`; a bad schedule, an unknown job or a name taken is one line
on stderr and exit 1. Times are shown in GMT, the zone pg_cron 1.4 schedules in."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from crestfall_tui.commands import EXIT_OK, EXIT_USAGE, verb_maker
from crestfall_tui.config import StackConfig
from crestfall_tui.services.cron import Cron
from crestfall_tui.services.units import parse_duration


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    """`crestfall-tui cron <verb> ...` on the command line."""
    cron = commands.add_parser("cron", help="pg_cron jobs and their runs (list, add, "
                                            "history, prune, ...)")
    verb = verb_maker(cron, "verb", "job", "the job's name (or id)", common)

    verb("list", "every job: schedule, next runs, last run, runs and failures in 24 h",
         subject_too=False)
    verb("show", "one job, with its next runs")
    add = verb("add", "schedule a job (pg_cron checks the schedule); --database names the "
                      "database it runs in (default: pg_cron's own)")
    add.add_argument("schedule", help="5 fields, as `*/5 * * * *`, or @daily and the like")
    command = add.add_mutually_exclusive_group(required=True)
    command.add_argument("-c", "--command", dest="sql", metavar="SQL", help="the SQL to run")
    command.add_argument("-f", "--file", metavar="FILE", help="a file of SQL (- for stdin)")
    verb("enable", "let the job run on its schedule")
    verb("disable", "keep the job, but run it no more")
    verb("remove", "unschedule the job (its history stays)")
    history = verb("history", "runs newest first (of one job, or all)", subject_too=False)
    history.add_argument("job", nargs="?", help="the job's name (or id); all when left out")
    history.add_argument("--failed", action="store_true", help="only the failed runs")
    history.add_argument("--since", metavar="DURATION", help="only runs started within, "
                         "as 24h or 7d")
    history.add_argument("--limit", type=int, default=50)
    verb("settings", "pg_cron's settings and where each was set", subject_too=False)
    index = verb("index", "whether the history index per job is there (and the statement "
                          "that makes it)", subject_too=False)
    index.add_argument("--create", action="store_true", help="make it (concurrently)")
    prune = verb("prune", "delete runs older than a while, in batches", subject_too=False)
    prune.add_argument("--older-than", required=True, metavar="DURATION",
                       help="as 30d")


def run(args: argparse.Namespace, stack: StackConfig) -> int:
    """Carry out one verb; exit 1 on a failed operation (raised as a CrestfallError)."""
    import asyncio

    from crestfall_tui.stack import choose_runtime

    if args.verb == "add" and args.file == "-" and sys.stdin.isatty():
        print("crestfall-tui: -f - reads the command from a pipe", file=sys.stderr)
        return EXIT_USAGE
    runtime = choose_runtime(stack).runtime
    # pg_cron lives in one database (cron.database_name); --database is where a job runs.
    cron = Cron(runtime.postgres(read_only=stack.read_only))
    result = asyncio.run(_carry_out(cron, args))
    print(json.dumps(result, indent=2) if args.json else _for_people(args.verb, result))
    return EXIT_OK


async def _carry_out(cron: Cron, args: argparse.Namespace) -> Any:
    try:
        return await _verb(cron, args)
    finally:
        await cron.close()


async def _verb(cron: Cron, args: argparse.Namespace) -> Any:
    verb = args.verb
    if verb == "list":
        return [job.to_json() for job in await cron.jobs()]
    if verb == "show":
        return (await cron.job(args.job)).to_json()
    if verb == "add":
        command = args.sql if args.sql is not None else _read(args.file)
        return (await cron.add(args.job, args.schedule, command,
                               database=args.database)).to_json()
    if verb in ("enable", "disable"):
        return (await cron.set_active(args.job, verb == "enable")).to_json()
    if verb == "remove":
        return (await cron.remove(args.job)).to_json()
    if verb == "history":
        since = parse_duration(args.since) if args.since else None
        return [run.to_json() for run in await cron.history(
            args.job, failed=args.failed, since=since, limit=args.limit)]
    if verb == "settings":
        return [{"name": n, "value": v, "source": s} for n, v, s in await cron.settings()]
    if verb == "index":
        missing = await cron.missing_index()
        if missing and args.create:
            return {"index": await cron.create_index(), "created": True}
        return {"index": missing, "created": False}
    return {"deleted": await cron.prune(parse_duration(args.older_than))}


def _read(file: str) -> str:
    from crestfall_tui.errors import CrestfallError

    try:
        return sys.stdin.read() if file == "-" else open(file, encoding="utf-8").read()
    except (OSError, UnicodeDecodeError) as error:
        raise CrestfallError(f"cannot read {file}: {error}", title="Cron") from None


def _for_people(verb: str, result: Any) -> str:
    if verb == "list":
        return "\n".join(_job_line(job) for job in result) or "no cron jobs"
    if verb == "history":
        return "\n".join(f"{r['id']}  job {r['job_id']}  {r['status']:<9} {r['start'] or '-'}"
                         f"  {r['return_message']}" for r in result) or "no runs"
    if verb == "prune":
        return f"deleted {result['deleted']:,} run(s)"
    if verb == "settings":
        return "\n".join(f"{s['name']} = {s['value']}  ({s['source']})" for s in result)
    if verb == "index":
        if result["created"]:
            return f"made it: {result['index']}"
        return (f"missing; --create makes it: {result['index']}" if result["index"]
                else "the history index is there")
    return _job_line(result) + "\n  next (GMT): " + (", ".join(result["next_runs"])
                                                    or "none (disabled)")


def _job_line(job: dict[str, Any]) -> str:
    last = job["last_run"]
    said = f"last {last['status']} {last['start']}" if last else "never ran"
    return (f"{job['id']}  {job['name'] or '-'}  {job['schedule']}  "
            f"{'active' if job['active'] else 'disabled'}  {said}  "
            f"{job['runs_24h']} runs / {job['failures_24h']} failed in 24h  "
            f"{job['database']}  {job['command'].splitlines()[0][:60] if job['command'] else ''}"
            + "".join(f"\n  ! {flag}" for flag in job["health"]))


