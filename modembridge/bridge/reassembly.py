"""A message's text, decided once by the bridge and kept in the journal.

The journal groups parts into messages but runs no codec; when a message is whole (or released
incomplete after the reassembly timeout) its parts' PDUs are decoded *together* here, so a GSM 7-bit
escape or a UTF-16 surrogate pair that a sender split across two parts comes out whole, and the result
is stored with the message (the router, the API and the CLI all read that one text).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from modembridge.sms import Deliver, PduError, decode_pdu, join_parts
from modembridge.store import Store, StoredPart


def joined_text(parts: Sequence[StoredPart]) -> str | None:
    """The text of a message's parts (one per seq, in order) decoded together, each with the TPDU length
    its modem printed (some leave the SMSC prefix out); None if one no longer decodes."""
    try:
        decoded = [decode_pdu(p.pdu, tpdu_length=p.tpdu_length or None) for p in parts]
    except PduError:
        return None
    delivers = [d for d in decoded if isinstance(d, Deliver)]
    return join_parts(delivers) if delivers and len(delivers) == len(decoded) else None


def message_text(parts: Sequence[StoredPart]) -> str:
    """What a message says: one part's own text, or all of them decoded together (their own texts joined
    when a PDU no longer decodes)."""
    if len(parts) == 1:
        return parts[0].text or ""
    return joined_text(parts) or "".join(p.text or "" for p in parts)


def settle_texts(store: Store, message_ids: Iterable[str]) -> None:
    """Set the text of each message from its parts (inside the open transaction; the caller commits)."""
    for message_id in message_ids:
        store.inbox.set_text(message_id, message_text(store.inbox.parts_of(message_id)))
