"""The questions, pickers and readers every section shares: one base, one frame style."""

from crestfall_tui.modals.base import CrestfallModal
from crestfall_tui.modals.cell import CellModal, on_cell_action
from crestfall_tui.modals.confirm import ConfirmModal
from crestfall_tui.modals.picker import PickerModal
from crestfall_tui.modals.prompt import PromptModal
from crestfall_tui.modals.reading import ReadingModal, TextModal
from crestfall_tui.modals.run_as import ask_run_as
from crestfall_tui.modals.text_editor import TextEditorModal

__all__ = ["CellModal", "ConfirmModal", "CrestfallModal", "PickerModal", "PromptModal",
           "ReadingModal", "TextEditorModal", "TextModal", "ask_run_as", "on_cell_action"]
