"""What `up` will do to each service's container, decided before anything is touched, as
`docker compose up` decides it: a running container whose configuration is unchanged is
kept, a stopped one is started again (the same container, its logs kept), one whose
configuration changed is recreated, and a missing one is created.

A container carries the hash of the configuration it was created from (compose's
`com.docker.compose.config-hash` label) and one hash per part of it (image, environment,
ports, ...), so that a recreation can say what changed."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

CONFIG_HASH = "com.docker.compose.config-hash"
PART_HASHES = "io.crestfall.config-parts"
"""A label: JSON of {part: hash} for the parts of the configuration below."""
PARTS = ("image", "command", "entrypoint", "environment", "ports", "volumes", "networks",
         "restart_policy", "healthcheck", "stop_signal", "hostname")


@dataclass
class ContainerPlan:
    """One service's container: what exists, what `up` does to it, and why."""

    service: str
    action: str
    """keep (running, unchanged), start (stopped, unchanged), create, recreate, excluded."""
    existing: Any | None = None
    reasons: list[str] = field(default_factory=list)
    """For a recreation: the parts of the configuration that changed."""
    hashes: dict[str, str] = field(default_factory=dict)

    @property
    def creates(self) -> bool:
        return self.action in ("create", "recreate")


def part_hashes(config: dict[str, Any], image_id: str) -> dict[str, str]:
    """A short hash of each part of a container's configuration; the image by the id its
    name points to now, so a rebuilt image counts as a change."""
    parts = {part: config.get(part) for part in PARTS}
    parts["image"] = [config.get("image"), image_id]
    return {part: _digest(value) for part, value in parts.items()}


def config_labels(hashes: dict[str, str]) -> dict[str, str]:
    """The labels that record a configuration on its container."""
    return {CONFIG_HASH: _digest(hashes), PART_HASHES: json.dumps(hashes, sort_keys=True)}


def plan_container(service: str, existing: Any | None, hashes: dict[str, str]) -> ContainerPlan:
    """What to do with the service's container (None when it has none)."""
    if existing is None:
        return ContainerPlan(service, "create", hashes=hashes)
    labels = existing.labels or {}
    if labels.get(CONFIG_HASH) != config_labels(hashes)[CONFIG_HASH]:
        try:
            recorded = json.loads(labels.get(PART_HASHES, "{}"))
        except ValueError:
            recorded = {}
        changed = [part for part in PARTS if recorded.get(part) != hashes.get(part)]
        if not recorded:
            changed = ["it was created without a record of its configuration"]
        return ContainerPlan(service, "recreate", existing, changed, hashes)
    running = existing.attrs.get("State", {}).get("Status") == "running"
    return ContainerPlan(service, "keep" if running else "start", existing, hashes=hashes)


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
