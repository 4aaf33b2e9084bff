"""The config file: defaults, and a one-line error (exit 2, no traceback) for each bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from crestfall_tui.config import config_path, load_config
from crestfall_tui.errors import ConfigError
from tests.helpers import run_cli


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_missing_file_means_defaults(tmp_path: Path) -> None:
    """With no file, `local` exists with the documented defaults."""
    local = load_config(tmp_path / "absent.toml").stack("local")
    assert (local.runtime, local.bind) == ("auto", "127.0.0.1")
    assert (local.ports.db, local.ports.rest, local.ports.search) == (5432, 5433, 8018)
    assert local.data_path.name == "local" and local.data_path.parent.name == "stacks"


def test_file_settings_and_extra_stacks(tmp_path: Path) -> None:
    """A stack's settings are read, and other stacks sit beside `local`."""
    path = write(tmp_path, '[stacks.local]\nbind = "0.0.0.0"\n[stacks.local.ports]\ndb = 6000\n'
                           '[stacks.staging]\nruntime = "remote"\n'
                           '[stacks.staging.remote]\ndb_url = "postgresql://x@db/postgres"\n')
    config = load_config(path)
    assert config.stack("local").ports.db == 6000
    assert config.stack("local").ports.search == 8018
    assert config.stack("staging").name == "staging"
    assert config.stack("staging").runtime == "remote"


def test_config_path_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """--config wins over $CRESTFALL_CONFIG, which wins over the platform's path."""
    monkeypatch.setenv("CRESTFALL_CONFIG", str(tmp_path / "env.toml"))
    assert config_path(str(tmp_path / "flag.toml")) == tmp_path / "flag.toml"
    assert config_path(None) == tmp_path / "env.toml"
    monkeypatch.delenv("CRESTFALL_CONFIG")
    assert config_path(None).parts[-2:] == ("crestfall", "config.toml")


@pytest.mark.parametrize(("text", "expected"), [
    ('[stacks.local]\nruntim = "native"\n', "stacks.local.runtim: unknown key"),
    ('[stacks.local.ports]\ndb = "5432"\n', "stacks.local.ports.db: expected an integer"),
    ('[stacks.local.ports]\ndb = 70000\n', "stacks.local.ports.db: expected a port from 1"),
    ('[stacks.local.ports]\ndb = true\n', "stacks.local.ports.db: expected an integer"),
    ('[stacks.local]\nruntime = "podman"\n', "stacks.local.runtime: expected one of 'auto'"),
    ('[stacks.local]\nbind = "localhost"\n', "stacks.local.bind: expected an IP address"),
    ('[stacks.local]\nread_only = 1\n', "stacks.local.read_only: expected true or false"),
    ('stacks = 3\n', "stacks: expected a table"),
    ('[stacks.local]\nexclude = ["cache"]\n', "stacks.local.exclude: expected a list of"),
    ('[stacks.prod]\nruntime = "remote"\n[stacks.prod.remote]\nrest_url = "x"\n',
     "stacks.prod.remote.db_url: missing"),
    ('[stack.local]\n', "stack: unknown key"),
    ('[stacks.local\n', "not valid TOML"),
    ('[stacks.prod]\nruntime = "remote"\n', "stacks.prod.remote: expected a [stacks.prod.remote]"),
])
def test_bad_config_names_file_and_key(tmp_path: Path, text: str, expected: str) -> None:
    """Each kind of mistake gets a message naming the file, the key and what was expected."""
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(path) in caught.value.message
    assert expected in caught.value.message


def test_cli_reports_bad_config_in_one_line(tmp_path: Path) -> None:
    """The binary prints one line and exits 2, with no traceback, for a bad config."""
    path = write(tmp_path, '[stacks.local.ports]\nsearch = "high"\n')
    done = run_cli("stack", "status", "--config", str(path))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert f"config error: {path}: stacks.local.ports.search: expected" in done.stderr


def test_cli_reports_unknown_stack(tmp_path: Path) -> None:
    """Asking for a stack the config does not define names the ones it does."""
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    done = run_cli("--stack", "nope", "--config", str(empty))
    assert done.returncode == 2
    assert "unknown stack 'nope': the config defines local" in done.stderr


def test_a_named_config_that_is_missing_is_an_error(tmp_path: Path) -> None:
    """--config or $CRESTFALL_CONFIG naming no file is a config error naming it, never a
    silent fall back to the defaults (and so to another stack)."""
    absent = tmp_path / "absent.toml"
    for done in (run_cli("stack", "status", "--config", str(absent)),
                 run_cli("stack", "status", env={"CRESTFALL_CONFIG": str(absent)})):
        assert done.returncode == 2, done.stderr
        assert done.stderr == (f"crestfall-tui: config error: {absent}: no such file (a "
                               "config named by --config or $CRESTFALL_CONFIG must exist)\n")


def test_cli_reports_unreadable_file(tmp_path: Path) -> None:
    """A config that is not UTF-8 text is refused with a clear message."""
    path = tmp_path / "config.toml"
    path.write_bytes(b"\xff\xfe[stacks]")
    done = run_cli("stack", "status", "--config", str(path))
    assert done.returncode == 2 and "not valid TOML" in done.stderr


def test_remote_stacks_of_the_same_name_keep_apart(tmp_path: Path) -> None:
    """Two configs that call different remote servers `staging` get different data dirs (so
    different histories and action logs); the same server gets the same one."""
    def remote(url: str) -> Path:
        config = tmp_path / f"c{abs(hash(url))}.toml"
        config.write_text(f'[stacks.staging]\nruntime = "remote"\n'
                          f'[stacks.staging.remote]\ndb_url = "{url}"\n')
        return load_config(config).stack("staging").data_path

    one = remote("postgresql://postgres:a@db-one:5432/postgres")
    other = remote("postgresql://postgres:a@db-two:5432/postgres")
    assert one != other and one.name.startswith("staging-")
    assert remote("postgresql://postgres:other-password@db-one:5432/postgres") == one
