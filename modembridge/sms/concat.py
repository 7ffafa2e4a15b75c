"""Concatenated SMS reassembly (23.040 9.2.3.24.1/.8): join parts, tolerate duplicates and disorder."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

from . import gsm7
from .pdu import Deliver


def join_parts(parts: Sequence[Deliver]) -> str:
    """Text of a concatenated message: parts ordered by concat.seq, duplicates (same seq) dropped.

    Parts sharing one encoding (and language tables) are decoded together, so an escape sequence or
    a surrogate pair split across a part boundary by a careless sender still decodes correctly.
    """
    seen: dict[int, Deliver] = {}
    for i, p in enumerate(parts):
        seq = p.concat.seq if p.concat else i + 1
        seen.setdefault(seq, p)
    ordered = [seen[k] for k in sorted(seen)]
    if not ordered:
        return ""
    first = ordered[0]
    uniform = all(p.encoding == first.encoding and p.language == first.language for p in ordered)
    if uniform and first.encoding == "gsm7":
        lang = first.language
        alpha = gsm7.alphabet(lang.locking, lang.single) if lang else gsm7.DEFAULT
        return gsm7.septets_to_text(b"".join(p.user_data for p in ordered), alpha)
    if uniform and first.encoding == "ucs2":
        return b"".join(p.user_data for p in ordered).decode("utf-16-be", "replace")
    return "".join(p.text for p in ordered)


def join_data(parts: Sequence[Deliver]) -> bytes:
    """Payload bytes of a concatenated 8-bit message, in seq order, duplicates dropped."""
    seen: dict[int, Deliver] = {}
    for i, p in enumerate(parts):
        seen.setdefault(p.concat.seq if p.concat else i + 1, p)
    return b"".join(seen[k].data or b"" for k in sorted(seen))


Key = tuple[str, int, int, int]


@dataclass(frozen=True)
class ReassembledMessage:
    """A whole message (or, from `expire`, what arrived of it: complete=False, missing lists the seqs)."""

    key: Key | None  # (sender, ref, total, ref_bits); None for a single-part message
    sender: str
    parts: tuple[Deliver, ...]  # ordered by seq, duplicates dropped
    tags: tuple[Hashable, ...]  # caller tags of every part received (duplicates included)
    text: str
    data: bytes | None
    complete: bool
    missing: tuple[int, ...] = ()

    @property
    def first(self) -> Deliver:
        return self.parts[0]


@dataclass
class _Pending:
    parts: dict[int, Deliver] = field(default_factory=dict)
    tags: list[Hashable] = field(default_factory=list)
    first_seen: float = 0.0
    last_seen: float = 0.0


class Reassembler:
    """In-memory reassembly keyed by (sender, ref, total, ref_bits).

    `add` returns the message when its last missing part arrives (at once for single-part messages);
    duplicates of a part, and parts of a message completed less than `dedupe_window` seconds ago,
    return None. `expire` gives up on messages idle for `timeout` seconds and returns them incomplete.
    """

    def __init__(self, dedupe_window: float = 600.0) -> None:
        self._pending: dict[Key, _Pending] = {}
        self._done: dict[Key, float] = {}
        self._window = dedupe_window

    def __len__(self) -> int:
        return len(self._pending)

    def pending_keys(self) -> list[Key]:
        return list(self._pending)

    def add(self, part: Deliver, now: float, tag: Hashable = None) -> ReassembledMessage | None:
        c = part.concat
        if c is None or c.total == 1:
            return ReassembledMessage(None, part.sender, (part,), (tag,), part.text, part.data, True)
        key: Key = (part.sender, c.ref, c.total, c.ref_bits)
        done_at = self._done.get(key)
        if done_at is not None and now - done_at < self._window:
            return None
        pend = self._pending.get(key)
        if pend is None:
            pend = self._pending[key] = _Pending(first_seen=now)
        pend.last_seen = now
        pend.tags.append(tag)
        pend.parts.setdefault(c.seq, part)
        if len(pend.parts) < c.total:
            return None
        del self._pending[key]
        self._done[key] = now
        return self._message(key, pend, True)

    def expire(self, now: float, timeout: float) -> list[ReassembledMessage]:
        out: list[ReassembledMessage] = []
        for key, pend in list(self._pending.items()):
            if now - pend.last_seen >= timeout:
                del self._pending[key]
                out.append(self._message(key, pend, False))
        for key, at in list(self._done.items()):
            if now - at >= self._window:
                del self._done[key]
        return out

    @staticmethod
    def _message(key: Key, pend: _Pending, complete: bool) -> ReassembledMessage:
        parts = tuple(pend.parts[k] for k in sorted(pend.parts))
        missing = tuple(s for s in range(1, key[2] + 1) if s not in pend.parts)
        is_data = parts[0].encoding == "8bit"
        return ReassembledMessage(
            key, key[0], parts, tuple(pend.tags), join_parts(parts), join_data(parts) if is_data else None,
            complete, missing,
        )
