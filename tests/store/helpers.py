"""Small builders shared by the journal tests."""

from __future__ import annotations

import hashlib

from modembridge.model import SendRequest
from modembridge.store import ConcatKey, InboundPartResult, PartFields, Store


def fake_pdu(*parts: object) -> str:
    """A distinct hex string per argument tuple (the journal stores PDUs opaquely)."""
    return hashlib.sha256(repr(parts).encode()).hexdigest().upper()


def add_part(
    store: Store,
    sender: str,
    text: str,
    *,
    now: float,
    modem: str = "gsm0",
    concat: tuple[int, int, int] | None = None,
    ref_bits: int = 8,
    pdu: str | None = None,
    smsc_time: float | None = None,
    index: int = 1,
    commit: bool = True,
) -> InboundPartResult:
    """Journal one decoded part (committed, as the reader does before it frees the slot, unless
    commit=False); concat = (ref, total, seq)."""
    key = ConcatKey(concat[0], concat[1], concat[2], ref_bits) if concat else None
    result = store.inbox.add_part(
        modem_id=modem,
        mem="SM",
        index=index,
        pdu=pdu or fake_pdu(sender, text, concat, now, modem),
        received_at=now,
        part=PartFields(
            sender=sender, text=text, encoding="gsm7", smsc="+254722500029", smsc_time=smsc_time, concat=key
        ),
        error=None,
    )
    if commit:
        store.commit_now()
    return result


def send(
    store: Store,
    *recipients: str,
    parts: int = 1,
    now: float = 1000.0,
    client_id: str | None = None,
    modem: str | None = None,
    expires_at: float | None = None,
    dlr_url: str | None = None,
    dlr_mask: int = 0,
    status_report: bool = False,
) -> str:
    """Journal an outbound send with fake PDUs; returns the message id."""
    rcpts = recipients or ("+254700000001",)
    req = SendRequest(
        recipients=rcpts,
        text="hello",
        client_id=client_id,
        modem=modem,
        dlr_url=dlr_url,
        dlr_mask=dlr_mask,
        status_report=status_report,
    )
    pdus = {r: [(fake_pdu(r, i, now, client_id), 20 + i) for i in range(parts)] for r in rcpts}
    return store.outbox.add(req, pdus, encoding="gsm7", now=now, expires_at=expires_at).message_id
