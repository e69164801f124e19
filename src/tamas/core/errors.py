"""Root of every error Tamas raises on purpose."""


class TamasError(Exception):
    """Base class for all errors raised deliberately by Tamas code."""
