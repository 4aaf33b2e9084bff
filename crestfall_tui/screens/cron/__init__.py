"""The Cron section (F6): pg_cron's jobs, their runs, and the history's retention."""

from crestfall_tui.screens.cron.screen import CronScreen

__all__ = ["CronScreen"]
