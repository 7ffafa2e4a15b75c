"""Which message a concatenated part belongs to: a pure decision over the groups already journalled.

Parts of one message share the sender, the concatenation reference, the part count and the reference
size (the *key*), but senders reuse references (A2P platforms often send every message with the same
one), so the key alone does not tell a network resend from a new message. The service centre's time
stamp (TP-SCTS, the time the SMSC took the part) does:

- A **resend** (the SMSC delivering a part again because the modem's acknowledgement was lost, or a
  handset re-submitting a part it got no answer for) carries the same content and the same stamp, or
  one at most ``resend_window`` seconds apart.
- The parts of **one message** are taken by the SMSC one after another: their stamps lie within
  ``part_spread`` seconds of each other. A part further than that from every stamp of an assembling
  group starts a new group, even when its sequence number is free there.
- The same content with a stamp further apart than ``resend_window`` is a **new message** (a person
  sending the same text again, a platform sending the same disclaimer under a fixed reference).

A part without a stamp (rows journalled before stamps were compared) matches any stamp, which is the
rule the journal used before: the same content is a resend, a free sequence number joins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

RESEND_WINDOW = 10.0  # seconds: a resend's stamp is this close to the original's (0 for an SMSC retry)
PART_SPREAD = 30.0  # seconds: the stamps of one message's parts lie this close together


@dataclass(frozen=True)
class GroupedPart:
    """A part already journalled in a group, as far as the decision needs it."""

    seq: int
    text: str | None
    data: bytes | None
    stamp: float | None  # TP-SCTS, unix seconds


@dataclass(frozen=True)
class Group:
    """A message with the part's key: still assembling, or recently complete (or released)."""

    rowid: int
    assembling: bool
    parts: tuple[GroupedPart, ...]


class Verdict(Enum):
    RESEND = "resend"  # the same part again: journalled as a duplicate of `group`
    JOIN = "join"  # the next part of `group`, still assembling
    NEW = "new"  # the first part of a new message


@dataclass(frozen=True)
class Placement:
    verdict: Verdict
    group: int | None = None  # the group's rowid (None for NEW)


def _apart(a: float | None, b: float | None) -> float:
    """Seconds between two stamps; 0 when one is unknown (it matches anything)."""
    return 0.0 if a is None or b is None else abs(a - b)


def place(part: GroupedPart, groups: Sequence[Group], *, resend_window: float = RESEND_WINDOW,
          part_spread: float = PART_SPREAD) -> Placement:
    """Where `part` goes among `groups` (oldest first).

    1. A group holding this seq with the same content and a stamp within `resend_window`: a resend.
    2. Else the assembling group with this seq free whose nearest stamp is closest, if within
       `part_spread` (ties: the oldest group).
    3. Else a new message.
    """
    for g in groups:
        for p in g.parts:
            if p.seq == part.seq and p.text == part.text and p.data == part.data \
                    and _apart(p.stamp, part.stamp) <= resend_window:
                return Placement(Verdict.RESEND, g.rowid)
    best: tuple[float, int] | None = None
    for g in groups:
        if not g.assembling or any(p.seq == part.seq for p in g.parts):
            continue
        nearest = min((_apart(p.stamp, part.stamp) for p in g.parts), default=0.0)
        if nearest <= part_spread and (best is None or nearest < best[0]):
            best = (nearest, g.rowid)
    if best is not None:
        return Placement(Verdict.JOIN, best[1])
    return Placement(Verdict.NEW)
