"""Store errors."""

from tamas.core.errors import TamasError


class StoreError(TamasError):
    """The store cannot do what was asked (bad URL, failed migration, missing row...)."""
