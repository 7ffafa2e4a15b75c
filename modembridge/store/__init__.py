"""The durable journal: one SQLite file (WAL) holding inbox, outbox, parts and delivery reports.

A :class:`Store` is the :class:`Journal` (connection, transactions, group commit) and one object per
concern over it: ``inbox`` (inbound parts grouped into messages, delivery to the router), ``outbox``
(accepted sends, routing parts to modems, send states), ``reports`` (status reports, dlr-url callbacks),
``facts`` (what a modem driver remembers), ``usage`` (what each modem sent, for its quotas), ``calls``
(missed voice calls) and ``views`` (read models for operators). Their sync methods write inside the open
transaction; ``await store.commit()`` right after writing makes it durable (see
docs/durability.md). Times are unix seconds, passed in by the caller. The journal runs no codec.
"""

from __future__ import annotations

import functools
import random
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from modembridge.config import Config

from .calls import Calls
from .facts import Facts
from .grouping import PART_SPREAD, RESEND_WINDOW
from .history import History
from .inbox import Inbox
from .journal import Journal, Transaction
from .outbox import Outbox
from .reports import Reports, same_number
from .schema import VERSION as SCHEMA_VERSION
from .schema import SchemaError
from .types import (
    ConcatKey,
    Disposition,
    InboundPartResult,
    MatchedPart,
    OutboundPart,
    PartFields,
    PartProgress,
    StoredPart,
    StoreError,
    UnknownMessageError,
)
from .usage import Usage, UsageCounts
from .views import Views

if TYPE_CHECKING:
    from .fleet import FleetParts


class Store(Journal):
    """The journal file with its parts: ``store.inbox``, ``.outbox``, ``.reports``, ``.facts``, ``.views``,
    ``.usage``."""

    def __init__(self, path: str | Path, *, synchronous: Literal["FULL", "NORMAL"] = "FULL",
                 order_hold_attempts: int = 5, dlr_window: float = 3 * 86400.0, dedupe_window: float = 3600.0,
                 resend_window: float = RESEND_WINDOW, part_spread: float = PART_SPREAD,
                 rng: random.Random | None = None) -> None:
        super().__init__(path, synchronous=synchronous, rng=rng)
        self.inbox = Inbox(self, order_hold_attempts=order_hold_attempts, dedupe_window=dedupe_window,
                           resend_window=resend_window, part_spread=part_spread)
        self.outbox = Outbox(self)
        self.reports = Reports(self, dlr_window=dlr_window)
        self.facts = Facts(self)
        self.views = Views(self)
        self.usage = Usage(self)
        self.calls = Calls(self)
        self.history = History(self)

    @functools.cached_property
    def fleet(self) -> FleetParts:
        """Fleet mode's part of the journal (imported on first use: only fleet mode uses it)."""
        from .fleet import FleetParts

        return FleetParts(self)

    @classmethod
    def from_config(cls, config: Config) -> Store:
        """The journal with the settings of `config` ([store], the inbound grouping, the report window)."""
        return cls(config.store.path, synchronous=config.store.synchronous,
                   dlr_window=config.dlr.report_window, resend_window=config.inbound.resend_window,
                   part_spread=config.inbound.part_spread)


__all__ = [
    "SCHEMA_VERSION",
    "ConcatKey",
    "Disposition",
    "InboundPartResult",
    "Journal",
    "MatchedPart",
    "OutboundPart",
    "PartFields",
    "PartProgress",
    "SchemaError",
    "Store",
    "StoreError",
    "StoredPart",
    "Transaction",
    "UnknownMessageError",
    "UsageCounts",
    "same_number",
]
