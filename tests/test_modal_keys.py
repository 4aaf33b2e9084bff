"""Keys in the studio's modal forms, as a fast typist (or a paste over SSH) sends them: all
at once, before the studio has handled the first."""

from __future__ import annotations

from datetime import UTC

from textual import events
from textual.app import App
from textual.widgets import Input

from crestfall_tui.clients.postgres import PostgresClient
from crestfall_tui.screens.cron.job_form import JobForm
from crestfall_tui.services.cron import Cron
from tests.drivers import until


async def test_letters_after_a_tab_reach_the_next_field() -> None:
    """`a b Tab * space c` read in one go: `ab` in the name, `* c` in the schedule. A field
    is handed its keys through a queue, so before modals took Tab as it was read, the
    letters after it reached the field it left (`ab* c` in the name, seen in CI under
    load). Nothing here reaches a database: the form only reads its fields."""
    form = JobForm(Cron(PostgresClient(lambda: "postgresql://nobody@127.0.0.1:1/none")), UTC)

    class Host(App[None]):
        def on_mount(self) -> None:
            self.push_screen(form)

    app = Host()
    async with app.run_test() as pilot:
        await pilot.pause()
        for key, character in (("a", "a"), ("b", "b"), ("tab", None), ("asterisk", "*"),
                               ("space", " "), ("c", "c")):
            app.post_message(events.Key(key, character))
        name, schedule = form.query_one("#job-name", Input), form.query_one("#job-schedule", Input)
        await until(pilot, lambda: len(name.value) + len(schedule.value) == 5)  # all typed
        assert form.query_one("#job-name", Input).value == "ab"
        assert form.query_one("#job-schedule", Input).value == "* c"
