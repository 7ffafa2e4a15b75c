"""The durable journal: one SQLite file (WAL) holding inbox, outbox, parts and delivery reports.

Sync methods write inside an open transaction; ``await store.commit()`` makes everything so far durable,
and concurrent callers in one loop iteration share one COMMIT (group commit). Times are unix seconds,
passed in by the caller. See docs/durability.md.
"""

from __future__ import annotations

from modembridge.config import StoreConfig

from .facts import FactsMixin
from .inbox import InboxMixin
from .outbox import OutboxMixin
from .reports import ReportsMixin, same_number
from .schema import VERSION as SCHEMA_VERSION
from .schema import SchemaError
from .types import (
    ConcatKey,
    InboundPartResult,
    MatchedPart,
    OutboundPart,
    PartFields,
    StoreError,
    UnknownMessageError,
)
from .views import ViewsMixin


class Store(InboxMixin, OutboxMixin, ReportsMixin, ViewsMixin, FactsMixin):
    """Store(path, synchronous="FULL"|"NORMAL", order_hold_attempts=5, dlr_window=7 days,
    dedupe_window=1 hour, rng=None)."""

    @classmethod
    def from_config(cls, config: StoreConfig) -> Store:
        return cls(config.path, synchronous=config.synchronous)


__all__ = [
    "SCHEMA_VERSION",
    "ConcatKey",
    "InboundPartResult",
    "MatchedPart",
    "OutboundPart",
    "PartFields",
    "SchemaError",
    "Store",
    "StoreError",
    "UnknownMessageError",
    "same_number",
]
