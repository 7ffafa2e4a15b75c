"""A concatenated message's text, decided once by the bridge and kept in the journal.

The journal groups parts into messages but runs no codec; when a message is whole (or released
incomplete after the reassembly timeout) its parts' PDUs are decoded *together* here, so a GSM 7-bit
escape or a UTF-16 surrogate pair that a sender split across two parts comes out whole, and the result
is stored with the message (the router, the API and the CLI all read that one text).
"""

from __future__ import annotations

from collections.abc import Iterable

from modembridge.sms import Deliver, PduError, decode_pdu, join_parts
from modembridge.store import Store


def joined_text(pdus: list[str]) -> str | None:
    """The text of a message's parts (one PDU per seq, in order) decoded together; None if one fails."""
    try:
        decoded = [decode_pdu(pdu) for pdu in pdus]
    except PduError:
        return None
    delivers = [d for d in decoded if isinstance(d, Deliver)]
    return join_parts(delivers) if delivers and len(delivers) == len(decoded) else None


def settle_texts(store: Store, message_ids: Iterable[str]) -> None:
    """Set the text of each message from its parts (inside the open transaction; the caller commits).
    A message whose parts no longer decode keeps the concatenation of the parts' own texts."""
    for message_id in message_ids:
        text = joined_text(store.inbox.part_pdus(message_id))
        if text is not None:
            store.inbox.set_text(message_id, text)
