"""Timing in process, side by side: ours and the floor alternate run by run (and which goes
first alternates), both warmed first, so the machine's noise falls on both alike; medians."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any


async def medians(ours: Callable[[], Awaitable[Any]], floor: Callable[[], Awaitable[Any]],
                  runs: int) -> tuple[float, float]:
    """The median seconds of `ours` and of `floor` over `runs` alternating runs each."""
    await ours()
    await floor()  # both warm: connection open, plans cached by the server
    ours_s: list[float] = []
    floor_s: list[float] = []
    pairs = ((ours, ours_s), (floor, floor_s))
    for run in range(runs):
        # Which goes first alternates too: what one leaves behind (the server's parallel
        # workers still exiting, say) falls on both alike.
        for target, samples in pairs if run % 2 == 0 else pairs[::-1]:
            started = time.perf_counter()
            await target()
            samples.append(time.perf_counter() - started)
    return statistics.median(ours_s), statistics.median(floor_s)


def on_fresh_stack(name: str, make_stack: Callable[[str], Any], seed: Callable[[str], None],
                   measure: Callable[[str, Any, int], Awaitable[None]], runs: int) -> None:
    """Start a stack of its own, seed it, measure on it (at least 20 runs), remove it."""
    stack = make_stack(name)
    try:
        stack.runtime.up()
        seed(stack.conninfo)
        asyncio.run(measure(stack.conninfo, stack.runtime.postgres(read_only=False),
                            max(runs, 20)))
    finally:
        stack.remove()
