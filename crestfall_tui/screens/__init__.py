"""The studio's sections, one package each."""

from crestfall_tui.screens.base import CrestfallScreen
from crestfall_tui.screens.cron import CronScreen
from crestfall_tui.screens.query import QueryScreen
from crestfall_tui.screens.stack import StackScreen
from crestfall_tui.screens.tables import TablesScreen
from crestfall_tui.screens.users import UsersScreen

__all__ = ["CrestfallScreen", "CronScreen", "QueryScreen", "StackScreen", "TablesScreen",
           "UsersScreen"]
