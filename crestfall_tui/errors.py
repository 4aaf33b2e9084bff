"""The one error type the core raises, phrased for the person at the keyboard."""

from __future__ import annotations


class CrestfallError(Exception):
    """A failure the user can act on: a short title and a message in their words."""

    def __init__(self, message: str, *, title: str = "Crestfall") -> None:
        super().__init__(message)
        self.title = title
        self.message = message


class ConfigError(CrestfallError):
    """The config file (or a command-line choice of stack) is not valid."""

    def __init__(self, message: str) -> None:
        super().__init__(message, title="Config")


class ServiceError(CrestfallError):
    """A service could not be started, stopped or reached."""

    def __init__(self, service: str, message: str) -> None:
        super().__init__(message, title=service)
        self.service = service
