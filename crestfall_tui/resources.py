"""Where the files shipped beside the code (`sql/`, `compose.yaml`) are found."""

from __future__ import annotations

from pathlib import Path

# In a checkout `crestfall_tui/data` holds symlinks to the top-level `sql/` and
# `compose.yaml`; in a wheel the build has copied the files themselves there.
DATA_DIR = Path(__file__).resolve().parent / "data"


def init_sql_files() -> list[Path]:
    """The init scripts in the order they run (by their numbered names)."""
    return sorted((DATA_DIR / "sql").glob("*.sql"))


def compose_file() -> Path:
    """The compose file the docker runtime carries out."""
    return DATA_DIR / "compose.yaml"
