"""The studio's screens, one per section."""

from crestfall_tui.screens.base import CrestfallScreen
from crestfall_tui.screens.confirm import ConfirmModal
from crestfall_tui.screens.query import QueryScreen
from crestfall_tui.screens.stack import StackScreen
from crestfall_tui.screens.tables import TablesScreen

__all__ = ["ConfirmModal", "CrestfallScreen", "QueryScreen", "StackScreen", "TablesScreen"]
