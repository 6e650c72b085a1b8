"""Where the mock's state lives: the :class:`~.protocol.StateStore` contract and its two implementations.

* :mod:`.protocol` — the contract (jobs, counters, the request journal, webhook deliveries);
* :mod:`.memory` — in this process (the default);
* :mod:`.sqlite` — ``<data_dir>/state.sqlite3`` for ``--data-dir`` and ``--workers N`` (imported only
  then; where ``fcntl`` does not exist it serves one process, and ``--workers`` is refused).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .memory import MemoryStore
from .protocol import StateStore

if TYPE_CHECKING:
    from ..settings import Settings

__all__ = ["MemoryStore", "StateStore", "store_for"]


def store_for(settings: Settings, *, run_id: str | None = None) -> StateStore:
    """The state store ``settings`` ask for: memory, or SQLite under ``settings.data_dir``."""
    if settings.data_dir is None:
        return MemoryStore()
    from .sqlite import SqliteStore

    return SqliteStore.open(settings.data_dir, run_id=run_id)
