"""Reusable widgets: they show data and post messages; they never call a client."""

from crestfall_tui.widgets.connection_list import ConnectionList
from crestfall_tui.widgets.extension_list import ExtensionList
from crestfall_tui.widgets.relation_tree import RelationTree
from crestfall_tui.widgets.result_grid import ResultGrid
from crestfall_tui.widgets.service_table import ServiceTable
from crestfall_tui.widgets.sql_editor import SqlEditor
from crestfall_tui.widgets.table_grid import TableGrid

__all__ = ["ConnectionList", "ExtensionList", "RelationTree", "ResultGrid", "ServiceTable",
           "SqlEditor", "TableGrid"]
