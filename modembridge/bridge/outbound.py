"""Accepting a send: the request's PDUs are encoded once, journalled, and only then acknowledged."""

from __future__ import annotations

import random
from datetime import timedelta

from modembridge.config import OutboundConfig
from modembridge.model import SendAccepted, SendRequest
from modembridge.sms import encode_submit, segment_info
from modembridge.store import Store

Pdus = dict[str, list[tuple[str, int]]]  # recipient -> [(PDU hex with SMSC prefix, TPDU length)] per part


def encode_request(request: SendRequest, rng: random.Random) -> Pdus:
    """Every recipient's SMS-SUBMIT PDUs (one concatenation reference per recipient)."""
    validity = timedelta(seconds=request.validity) if request.validity else None
    status_report = request.status_report or bool(request.dlr_mask & 3)  # dlr-mask 1/2 need the network's
    return {
        recipient: [(p.hex, p.tpdu_length) for p in encode_submit(
            recipient, request.text, status_report=status_report, validity=validity, flash=request.flash,
            concat_ref=rng.randrange(256))]
        for recipient in request.recipients
    }


async def accept(store: Store, config: OutboundConfig, request: SendRequest, now: float,
                 rng: random.Random) -> SendAccepted:
    """Journal the send durably and return the answer for the client (the first one again for a client id
    seen before). Raises StoreError when the journal could not take it: nothing was accepted."""
    expiry = min(float(request.validity), config.expiry) if request.validity else config.expiry
    encoding = segment_info(request.text).encoding
    accepted = store.outbox.add(request, encode_request(request, rng), encoding=encoding, now=now,
                                expires_at=now + expiry)
    await store.commit()
    return accepted
