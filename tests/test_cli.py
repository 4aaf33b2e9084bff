"""The headless command line, run as the real `crestfall-tui` binary."""

from __future__ import annotations

import json

from tests.helpers import StackUnderTest, make_stack, run_cli


def test_status_json_shape_and_masking(stack: StackUnderTest) -> None:
    """`stack status --json` prints the documented shape with secrets masked; exit 0."""
    done = stack.cli("stack", "status", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["stack"] == "local" and report["runtime"] == "native"
    services = {s["name"]: s for s in report["services"]}
    assert set(services) == {"db", "rest", "search"}
    assert services["db"]["state"] == "healthy"
    assert services["db"]["port"] == stack.stack.ports.db
    assert services["db"]["url"] == (
        f"postgresql://postgres:***@127.0.0.1:{stack.stack.ports.db}/postgres")
    assert services["search"]["url"].endswith("api_key=***")
    assert services["rest"]["state"] == "not installed"
    secrets = stack.runtime.secrets
    for secret in (secrets.postgres_password, secrets.search_api_key, secrets.jwt_secret):
        assert secret not in done.stdout + done.stderr


def test_show_secrets_reveals_them(stack: StackUnderTest) -> None:
    """--show-secrets is the one way to print the passwords and keys in full."""
    done = stack.cli("stack", "status", "--json", "--show-secrets")
    services = {s["name"]: s for s in json.loads(done.stdout)["services"]}
    assert stack.runtime.secrets.postgres_password in services["db"]["url"]
    assert stack.runtime.secrets.search_api_key in services["search"]["url"]


def test_status_text_and_up_are_idempotent(stack: StackUnderTest) -> None:
    """`stack up` on a running stack exits 0 and starts nothing; the text table lists all."""
    done = stack.cli("stack", "up")
    assert done.returncode == 0
    assert "starting" not in done.stderr
    for name in ("db", "rest", "search"):
        assert name in done.stdout
    assert stack.runtime.secrets.postgres_password not in done.stdout


def test_status_of_a_stopped_stack_exits_1() -> None:
    """A stack that is not running reports each service down, exit code 1."""
    idle = make_stack("idle")
    try:
        done = idle.cli("stack", "status", "--json")
        assert done.returncode == 1
        states = {s["name"]: s["state"] for s in json.loads(done.stdout)["services"]}
        assert states == {"db": "down", "rest": "not installed", "search": "down"}
    finally:
        idle.remove()


def test_version_and_help() -> None:
    """--version and --help answer without touching any stack."""
    assert run_cli("--version").stdout.startswith("crestfall-tui 0.")
    helped = run_cli("--help")
    assert helped.returncode == 0 and "stack" in helped.stdout and "--config" in helped.stdout
    assert "status" in run_cli("stack", "--help").stdout


def test_docker_runtime_without_engine_says_so(stack: StackUnderTest) -> None:
    """--runtime docker where no engine answers: one clear message, exit 1."""
    done = run_cli("stack", "status", "--stack", "local", "--config", str(stack.config_path),
                   "--runtime", "docker", env={"DOCKER_HOST": "unix:///nonexistent.sock"})
    assert done.returncode == 1 and "no Docker engine answers" in done.stderr
    assert "Traceback" not in done.stderr
