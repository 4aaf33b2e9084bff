"""The compose interpreter on its own, no engine needed: interpolation, order, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from crestfall_tui.resources import compose_file
from crestfall_tui.stack.compose import (
    ComposeError,
    duration_ns,
    interpolate,
    load_compose,
    parse_compose,
)

SECRETS = {"POSTGRES_PASSWORD": "pw", "AUTHENTICATOR_PASSWORD": "ap", "JWT_SECRET": "j" * 40,
           "TYPESENSE_API_KEY": "key"}


@pytest.mark.parametrize(("text", "env", "expected"), [
    ("${A}", {"A": "1"}, "1"),
    ("$A-x", {"A": "1"}, "1-x"),
    ("${A:-d}", {}, "d"),
    ("${A:-d}", {"A": ""}, "d"),
    ("${A-d}", {"A": ""}, ""),
    ("${A-d}", {}, "d"),
    ("${A:?needed}", {"A": "v"}, "v"),
    ("$${A}", {"A": "v"}, "${A}"),
    ("a$$b", {}, "a$b"),
    ("${MISSING}", {}, ""),
    ("${A:-dflt}x", {}, "dfltx"),
])
def test_interpolation(text: str, env: dict[str, str], expected: str) -> None:
    """Each Compose interpolation form gives what the specification says."""
    assert interpolate(text, env) == expected


def test_required_variable_missing_names_it() -> None:
    """${VAR:?message} with VAR unset stops with the variable's name and the message."""
    with pytest.raises(ComposeError, match="JWT_SECRET is not set: the secret"):
        interpolate({"x": ["${JWT_SECRET:?the secret}"]}, {})


def test_durations() -> None:
    """Compose durations become nanoseconds; nonsense is refused."""
    assert duration_ns("1s", "x") == 1_000_000_000
    assert duration_ns("500ms", "x") == 500_000_000
    assert duration_ns("1m30s", "x") == 90_000_000_000
    with pytest.raises(ComposeError, match="expected a duration"):
        duration_ns("soon", "db.healthcheck.interval")


def test_shipped_compose_file_reads() -> None:
    """The repository's compose.yaml: three services, db first, search healthcheck in ns."""
    project = load_compose(compose_file(), SECRETS | {"CRESTFALL_DB_PORT": "6000"})
    assert [s.name for s in project.start_order()] == ["db", "rest", "search"]
    db, rest, search = (project.services[n] for n in ("db", "rest", "search"))
    assert db.image.startswith("supabase/postgres:")
    assert db.ports[0].host_port == 6000 and db.ports[0].host_ip == "127.0.0.1"
    assert db.environment["POSTGRES_PASSWORD"] == "pw"
    assert [(m.kind, m.source) for m in db.volumes] == [("volume", "db-data")]  # no init dir
    assert rest.depends_on == {"db": "service_healthy"}
    assert search.healthcheck is not None and search.healthcheck.interval_ns == 1_000_000_000
    assert project.volumes == ("db-data", "search-data")


def test_images_follow_their_variables() -> None:
    """CRESTFALL_*_IMAGE replace the default images."""
    env = SECRETS | {"CRESTFALL_DB_IMAGE": "local/db:15", "CRESTFALL_SEARCH_IMAGE": "local/ts:1"}
    project = load_compose(compose_file(), env)
    assert project.services["db"].image == "local/db:15"
    assert project.services["search"].image == "local/ts:1"


def test_shipped_file_needs_the_secrets() -> None:
    """Without the stack's secrets the shipped file refuses to start, naming the variable."""
    with pytest.raises(ComposeError, match="POSTGRES_PASSWORD is not set"):
        load_compose(compose_file(), {})


def service(**body: object) -> dict[str, object]:
    return {"services": {"app": {"image": "x", **body}}}


@pytest.mark.parametrize(("document", "message"), [
    (service(build="."), "service 'app': key 'build' is not supported"),
    (service(healthcheck={"test": "true", "interval": "often"}), "expected a duration"),
    (service(depends_on=["ghost"]), "unknown service 'ghost'"),
    (service(depends_on={"app": {"condition": "service_happy"}}), "condition 'service_happy'"),
    (service(volumes=["data:/data"]), "volume 'data' is not declared"),
    (service(ports=["eighty"]), "port 'eighty' is not of the form"),
    (service(restart="sometimes"), "restart 'sometimes'"),
    ({"services": {"app": {}}}, "'image' is required"),
    ({"version": "3", "services": {}}, "top-level key 'version' is not supported"),
    ({"services": {}}, "no services defined"),
    ("just text", "must be a mapping"),
])
def test_bad_documents_name_what_is_wrong(document: object, message: str) -> None:
    """Unsupported keys and bad values are errors naming the service and key."""
    with pytest.raises(ComposeError, match=message):
        parse_compose(document, {})


def test_dependency_cycle_is_refused() -> None:
    """Services that depend on each other in a circle are named."""
    document = {"services": {"a": {"image": "x", "depends_on": ["b"]},
                             "b": {"image": "x", "depends_on": ["a"]}}}
    with pytest.raises(ComposeError, match="cycle: a -> b -> a"):
        parse_compose(document, {})


def test_order_dependents_and_exclude() -> None:
    """Dependencies start first; excluding a service lists what depends on it."""
    document = {"services": {
        "web": {"image": "x", "depends_on": {"api": {"condition": "service_healthy"}}},
        "api": {"image": "x", "depends_on": ["db"]},
        "db": {"image": "x"},
        "cache": {"image": "x"}}}
    project = parse_compose(document, {})
    order = [s.name for s in project.start_order()]
    assert order.index("db") < order.index("api") < order.index("web")
    assert project.dependents("db") == ["api", "web"]
    assert "api" not in [s.name for s in project.start_order(frozenset({"api"}))]


def test_bad_yaml_is_reported(tmp_path: Path) -> None:
    """A file that is not YAML gets a message naming the file."""
    path = tmp_path / "compose.yaml"
    path.write_text("services:\n  db: [unclosed\n")
    with pytest.raises(ComposeError, match="not valid YAML"):
        load_compose(path, {})


def test_waves_start_independent_services_together() -> None:
    """Services without dependencies between them share a wave; dependents come later."""
    project = load_compose(compose_file(), SECRETS)
    waves = [[s.name for s in wave] for wave in project.start_waves()]
    assert waves == [["db", "search"], ["rest"]]
    assert [[s.name for s in w] for w in project.start_waves(frozenset({"rest"}))] == [
        ["db", "search"]]
