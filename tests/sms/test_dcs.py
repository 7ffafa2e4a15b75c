"""TP-DCS interpretation: coding groups, classes, compression, MWI groups, reserved values."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from modembridge.sms import Deliver, Mwi, decode_pdu, encode_deliver, encode_submit, parse_dcs
from modembridge.sms.dcs import MWI_EMAIL, MWI_FAX, MWI_OTHER, MWI_VOICEMAIL

from .helpers import deliver_hex, septets_hex


@pytest.mark.parametrize(
    ("dcs", "encoding", "cls", "compressed"),
    [
        (0x00, "gsm7", None, False),
        (0x04, "8bit", None, False),
        (0x08, "ucs2", None, False),
        (0x0C, "8bit", None, False),  # reserved alphabet: kept as raw 8-bit data
        (0x10, "gsm7", 0, False),  # flash
        (0x11, "gsm7", 1, False),
        (0x12, "gsm7", 2, False),
        (0x13, "gsm7", 3, False),
        (0x18, "ucs2", 0, False),
        (0x16, "8bit", 2, False),
        (0x20, "8bit", None, True),  # compressed -> data
        (0x39, "8bit", 1, True),
        (0x40, "gsm7", None, False),  # automatic deletion group
        (0x48, "ucs2", None, False),
        (0x80, "8bit", None, False),  # reserved coding groups 1000..1011
        (0xB7, "8bit", None, False),
        (0xF0, "gsm7", 0, False),
        (0xF1, "gsm7", 1, False),
        (0xF6, "8bit", 2, False),
        (0xF7, "8bit", 3, False),
    ],
)
def test_dcs_table(dcs: int, encoding: str, cls: int | None, compressed: bool) -> None:
    info = parse_dcs(dcs)
    assert (info.encoding, info.message_class, info.compressed) == (encoding, cls, compressed)
    assert info.auto_delete == (0x40 <= dcs < 0x80)


@pytest.mark.parametrize(
    ("dcs", "store", "active", "kind", "encoding"),
    [
        (0xC0, False, False, MWI_VOICEMAIL, "gsm7"),
        (0xC8, False, True, MWI_VOICEMAIL, "gsm7"),
        (0xD9, True, True, MWI_FAX, "gsm7"),
        (0xD2, True, False, MWI_EMAIL, "gsm7"),
        (0xEB, True, True, MWI_OTHER, "ucs2"),
    ],
)
def test_mwi_groups(dcs: int, store: bool, active: bool, kind: int, encoding: str) -> None:
    info = parse_dcs(dcs)
    assert info.mwi == Mwi(active=active, kind=kind, store=store)
    assert info.encoding == encoding and info.message_class is None


def test_mwi_pdu_decodes() -> None:
    d = decode_pdu(deliver_hex(0xC8, 3, septets_hex([0x20, 0x20, 0x20])))  # voicemail waiting, discard
    assert isinstance(d, Deliver)
    assert d.mwi is not None and d.mwi.active and d.mwi.kind_name == "voicemail" and not d.mwi.store
    assert d.text == "   "


def test_reserved_dcs_keeps_raw_octets() -> None:
    d = decode_pdu(deliver_hex(0x85, 3, "414243"))
    assert isinstance(d, Deliver)
    assert (d.encoding, d.text, d.data) == ("8bit", "", b"ABC")


def test_compressed_is_data() -> None:
    d = decode_pdu(deliver_hex(0x24, 2, "FFEE"))
    assert isinstance(d, Deliver)
    assert (d.encoding, d.compressed, d.data) == ("8bit", True, b"\xff\xee")


def test_flash_encoding() -> None:
    [p] = encode_submit("+15550001", "flash!", flash=True)
    d = decode_pdu(p.hex)
    assert (d.dcs, d.message_class) == (0x10, 0)
    [p] = encode_submit("+15550001", "Жжж", flash=True)
    assert decode_pdu(p.hex).dcs == 0x18
    ts = datetime(2024, 1, 1, tzinfo=UTC)
    [p] = encode_deliver("+15550001", data=b"\x00\x01", flash=True, timestamp=ts)
    d = decode_pdu(p.hex)
    assert (d.dcs, d.message_class, d.data) == (0x14, 0, b"\x00\x01")
