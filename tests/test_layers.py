"""House rule: the core (stack, clients, services, queries, config) never imports Textual."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import crestfall_tui

ROOT = Path(crestfall_tui.__file__).parent


def core_modules() -> list[str]:
    """Every module of the core packages, found on disk so a new one cannot dodge the rule."""
    found = ["crestfall_tui.config", "crestfall_tui.errors", "crestfall_tui.__main__"]
    for package in ("stack", "clients", "services", "queries", "commands"):
        for path in sorted((ROOT / package).glob("*.py")):
            found.append(f"crestfall_tui.{package}.{path.stem}".removesuffix(".__init__"))
    return found


def test_core_imports_no_textual() -> None:
    """Importing every core module in a fresh interpreter leaves Textual unloaded."""
    modules = core_modules()
    assert len(modules) > 15
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"


def test_studio_start_loads_no_driver() -> None:
    """The CLI and the app import no driver: psycopg, httpx and jwt load in workers later,
    so the first frame does not wait for them."""
    code = (
        "import sys, crestfall_tui.__main__, crestfall_tui.app\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'psycopg', 'httpx', 'jwt', 'pydantic', 'docker'}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"
