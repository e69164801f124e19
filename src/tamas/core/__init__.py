"""The small shared base every Tamas package may import: errors, clock protocol, ids."""

from tamas.core.clock import Clock
from tamas.core.errors import TamasError
from tamas.core.ids import new_id

__all__ = ["Clock", "TamasError", "new_id"]
