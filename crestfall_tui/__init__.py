"""crestfall-tui: a keyboard-driven terminal studio for the Crestfall stack."""

__version__ = "0.1.0"
__all__ = ["__version__"]
