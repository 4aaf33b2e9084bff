"""The Stack section (F1): services, health, extensions, connections."""

from crestfall_tui.screens.stack.screen import StackScreen

__all__ = ["StackScreen"]
