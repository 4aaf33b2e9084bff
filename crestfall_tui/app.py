"""CrestfallApp: one mode per section of the registry, the global keys, quitting. It names
no section: `sections.py` does."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from concurrent.futures import Future

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import HelpPanel

from crestfall_tui.config import StackConfig
from crestfall_tui.errors import ConfigError, CrestfallError
from crestfall_tui.modals import ConfirmModal, PickerModal, TextModal
from crestfall_tui.screens import CrestfallScreen
from crestfall_tui.screens.base import ShowRows
from crestfall_tui.sections import SECTIONS, Section, Studio
from crestfall_tui.services.action_log import action_text
from crestfall_tui.services.units import size_text
from crestfall_tui.stack.model import StackStatus
from crestfall_tui.stack.runtime import Runtime


def binding_ids() -> set[str]:
    """The id of every key binding of the studio (app, screens, modals, widgets): what a
    `[keymap]` entry may name."""
    found: set[str] = set()
    classes: list[type[DOMNode]] = [DOMNode]
    while classes:
        cls = classes.pop()
        classes.extend(cls.__subclasses__())
        if cls.__module__.startswith("crestfall_tui"):
            found |= {b.id for b in cls.BINDINGS if isinstance(b, Binding) and b.id}
    return found


def check_keymap(keymap: dict[str, str]) -> None:
    """A ConfigError naming the first keymap entry that names no binding."""
    known = binding_ids()
    for binding in keymap:
        if binding not in known:
            near = difflib.get_close_matches(binding, known, n=3)
            hint = f"did you mean {', '.join(near)}?" if near else \
                f"the ids are {', '.join(sorted(known))}"
            raise ConfigError(f"keymap.{binding}: no key of the studio has this id; {hint}")


def _section_key(section: Section) -> Binding:
    return Binding(section.key, f"switch_mode('{section.name}')", section.title,
                   tooltip=section.description, id=f"mode.{section.name}")


class CrestfallApp(App[None]):
    """The studio for one stack."""

    CSS_PATH = "app.tcss"
    TITLE = "Crestfall"
    BINDINGS = [
        *(_section_key(section) for section in SECTIONS),
        Binding("f12", "choose_database", "Database",
                tooltip="Open another database of the stack in Tables and Query",
                id="app.database"),
        Binding("question_mark", "toggle_help", "Help", tooltip="Show or hide the keys",
                id="app.help"),
        Binding("q", "quit", "Quit", tooltip="Leave the studio; the stack keeps running",
                id="app.quit"),
    ]

    def __init__(self, stack: StackConfig, runtime: Runtime, note: str = "",
                 *, first_status: Future[StackStatus] | None = None,
                 keymap: dict[str, str] | None = None) -> None:
        super().__init__()
        self.studio = Studio.open(stack, runtime, first_status)
        if keymap:
            self.set_keymap(keymap)
        self.note = note
        for section in SECTIONS:
            self.add_mode(section.name, self._opener(section))

    def _opener(self, section: Section) -> Callable[[], Screen[None]]:
        """Builds the section's screen when its mode is first entered."""
        return lambda: section.screen(self.studio)

    def on_mount(self) -> None:
        self.sub_title = f"database {self.studio.database}"
        self.switch_mode(SECTIONS[0].name)
        if self.note:
            self.notify(self.note, title="Runtime", timeout=8)

    def open_sections(self) -> list[CrestfallScreen]:
        """The screens of the sections opened so far."""
        found = []
        for section in SECTIONS:
            try:
                stack = self.get_screen_stack(section.name)
            except KeyError:
                continue  # never opened
            found += [screen for screen in stack if isinstance(screen, CrestfallScreen)]
        return found

    def unsaved_work(self) -> list[str]:
        """What quitting (or leaving the database) would lose, as every section says it."""
        return [line for screen in self.open_sections() for line in screen.unsaved_work()]

    async def on_show_rows(self, message: ShowRows) -> None:
        """A section asked for rows of a table (those that point at a user, say): the
        section that shows rows opens them."""
        section = next(s for s in SECTIONS if s.shows_rows)
        await self.switch_mode(section.name)
        if isinstance(self.screen, CrestfallScreen):
            self.screen.show_rows(message)

    @work(group="log", thread=True, exit_on_error=False)
    def action_action_log(self) -> None:
        """Every write the studio committed on this stack, newest first."""
        text = action_text(self.studio.actions.entries())
        self.call_from_thread(self.push_screen,
                              TextModal("Action log (newest first)", text, "sql"))

    @work(group="database", exclusive=True, exit_on_error=False)
    async def action_choose_database(self) -> None:
        """Pick another database of the stack (with its size) for Tables and Query."""
        try:
            found = await self.studio.databases()
        except CrestfallError as error:
            self.notify(error.message, title=error.title, severity="error", markup=False)
            return
        width = max(len(d.name) for d in found) if found else 0
        choices = [(f"{d.name:<{width}}  {size_text(d.size_bytes):>8}"
                    + ("  (open)" if d.name == self.studio.database else ""), d.name)
                   for d in found]

        def matching(search: str) -> list[tuple[str, str]]:
            return [c for c in choices if search.lower() in c[1].lower()]

        chosen = await self.push_screen_wait(PickerModal("Database", matching))
        if not chosen or chosen == self.studio.database:
            return
        unsaved = self.unsaved_work()
        if unsaved and not await self.push_screen_wait(ConfirmModal(
                " ".join(unsaved) + f" Open {chosen} anyway?", "Open")):
            return
        await self.studio.switch_database(chosen)
        self.sub_title = f"database {chosen}"
        for screen in self.open_sections():
            screen.database_changed()
        self.notify(f"Tables and Query now use database {chosen}", timeout=4)

    async def action_quit(self) -> None:
        """Quit; when a section has work that would be lost, ask first."""
        self.quit_asking()

    @work(group="quit", exclusive=True, exit_on_error=False)
    async def quit_asking(self) -> None:
        unsaved = self.unsaved_work()
        if unsaved:
            question = " ".join(unsaved) + " Quit anyway?"
            if not await self.push_screen_wait(ConfirmModal(question, "Quit")):
                return
        self.exit()

    def action_toggle_help(self) -> None:
        if self.screen.query(HelpPanel):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for section in SECTIONS:
            yield SystemCommand(f"Go to {section.title} ({section.key.upper()})",
                                section.description,
                                lambda name=section.name: self.switch_mode(name))
        yield SystemCommand(f"Database: open another (F12; now {self.studio.database})",
                            "Tables and Query follow it", self.action_choose_database)
        yield SystemCommand("Action log (L in Tables)",
                            "Every write the studio committed on this stack, newest first",
                            self.action_action_log)
        if isinstance(screen, CrestfallScreen):
            yield from screen.commands()
