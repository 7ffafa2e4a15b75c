"""Concatenated SMS (23.040 9.2.3.24.1/.8): join the parts of one message, in any order, duplicates dropped.

Which parts make one message is decided by the journal (modembridge.store.inbox), not here."""

from __future__ import annotations

from collections.abc import Sequence

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
