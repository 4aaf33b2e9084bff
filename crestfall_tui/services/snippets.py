"""Named, saved queries of one stack, kept in a JSON file in its data dir (mode 0600)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from crestfall_tui.errors import CrestfallError

SNIPPETS_FILE = "snippets.json"


class Snippets:
    """name -> SQL, sorted by name."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / SNIPPETS_FILE

    def all(self, search: str = "") -> dict[str, str]:
        """The snippets whose name or SQL contains `search` (any case)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except ValueError:
            raise CrestfallError(f"{self.path} is damaged; fix or remove it (it is JSON)",
                                 title="Snippets") from None
        needle = search.lower()
        return {name: text for name, text in sorted(data.items())
                if needle in name.lower() or needle in text.lower()}

    def save(self, name: str, text: str) -> None:
        """Add or replace one snippet (written whole, then renamed into place)."""
        snippets = self.all()
        snippets[name] = text
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(self.path.name + ".part")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(snippets, handle, indent=2, ensure_ascii=False)
        os.replace(partial, self.path)
