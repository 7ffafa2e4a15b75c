"""Cross-check against python-gammu (libGammu), an independent codec, where gammu is right.

Known gammu defects are pinned as explicit assertions of the difference, not copied:
'~' in UCS2 becomes U+0001, alphanumeric senders are packed as ASCII, the SCTS time zone is written
as 00, python-gammu's per-PDU 'Text' over-reads when escapes are present, and there is no
STATUS-REPORT builder. Gammu also leaves the 7 spare bits at 8n-1 septets zero (we put CR there).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from modembridge.sms import (
    Deliver,
    StatusReport,
    decode_pdu,
    encode_deliver,
    encode_status_report,
    encode_submit,
)

gammu = pytest.importorskip("gammu")

SMSC = "+254700000000"
DEST = "+254712345678"


def gammu_pdus(text: str, number: str = DEST, *, unicode: bool = False, long16: bool = False,
               layout: str = "Submit", when: datetime | None = None) -> list[tuple[dict[str, Any], bytes]]:
    kind = "ConcatenatedTextLong16bit" if long16 else "ConcatenatedTextLong"
    out = []
    for sms in gammu.EncodeSMS({"Class": -1, "Unicode": unicode, "Entries": [{"ID": kind, "Buffer": text}]}):
        sms["SMSC"] = {"Location": 0, "Number": SMSC, "Validity": "NA"}  # gammu then writes relative VP 0
        sms["Number"] = number
        sms["Type"] = layout
        if when is not None:
            sms["DateTime"] = when
        out.append((sms, gammu.EncodePDU(sms, layout)))
    return out


def same_or_cr_padded(ours: str, theirs: str) -> bool:
    """Equal, or differing only by the CR we put in 7 spare bits of the last octet."""
    if ours == theirs:
        return True
    a, b = bytes.fromhex(ours), bytes.fromhex(theirs)
    return len(a) == len(b) and a[:-1] == b[:-1] and a[-1] == b[-1] | (0x0D << 1)


def gammu_text(pdus: list[str]) -> str:
    parts = [gammu.DecodePDU(bytes.fromhex(p), True) for p in pdus]
    return str(gammu.DecodeSMS(parts)["Entries"][0]["Buffer"]) if len(parts) > 1 else str(parts[0]["Text"])


@pytest.mark.parametrize(
    ("text", "unicode", "long16"),
    [
        ("hello world", False, False),
        ("Trailing at@", False, False),
        ("x" * 200, False, False),
        ("y" * 200, False, True),
        ("{[€]}|^" * 40, False, False),
        ("Привет мир! " * 10, True, False),
        ("日本語のテキスト" * 12, True, True),
        ("Lorem ipsum dolor sit amet " * 40, False, False),
    ],
)
def test_submit_bytes_match_gammu(text: str, unicode: bool, long16: bool) -> None:
    theirs = gammu_pdus(text, unicode=unicode, long16=long16)
    ref_key = "ID16bit" if long16 else "ID8bit"
    ref = theirs[0][0]["UDH"][ref_key]
    ours = encode_submit(DEST, text, smsc=SMSC, validity=timedelta(minutes=5), ref_bits=16 if long16 else 8,
                         concat_ref=ref if ref >= 0 else None)
    assert len(ours) == len(theirs)
    for o, (_, t) in zip(ours, theirs, strict=True):
        assert same_or_cr_padded(o.hex, t.hex().upper())
        assert o.tpdu_length == len(t) - 8  # 8 octets of SMSC info
    assert "".join(decode_pdu(t).text for _, t in theirs) == text
    assert gammu_text([o.hex for o in ours]) == text


@pytest.mark.parametrize("text", ["How are you?", "1234567", "x{y}z" * 50, "Ж" * 100, "😀 emoji 👍🏽"])
def test_gammu_decodes_our_deliver(text: str) -> None:
    ts = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-3, minutes=-30)))
    ours = encode_deliver(DEST, text, timestamp=ts, smsc=SMSC, concat_ref=0x42)
    first = gammu.DecodePDU(bytes.fromhex(ours[0].hex), True)
    assert first["Type"] == "Deliver" and first["Number"] == DEST
    assert first["SMSC"]["Number"] == SMSC
    assert first["DateTime"] == ts and first["DateTime"].utcoffset() == ts.utcoffset()
    if len(ours) > 1:
        udh = first["UDH"]
        assert (udh["ID8bit"], udh["AllParts"], udh["PartNumber"]) == (0x42, len(ours), 1)
    assert gammu_text([p.hex for p in ours]) == text


def test_flash_class_matches_gammu() -> None:
    [o] = encode_submit(DEST, "flash", flash=True)
    assert gammu.DecodePDU(bytes.fromhex(o.hex), True)["Class"] == 0


def test_gammu_bug_tilde_in_ucs2() -> None:
    [(_, pdu)] = gammu_pdus("a~b", unicode=True)
    assert decode_pdu(pdu).text == "a\x01b"  # gammu wrote U+0001 for '~'
    [o] = encode_submit(DEST, "a~b", encoding="ucs2")
    assert "007E" in o.hex and decode_pdu(o.hex).text == "a~b"


def test_gammu_bug_alphanumeric_sender_packed_as_ascii() -> None:
    when = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    [(_, pdu)] = gammu_pdus("hi", "Info_SMS", layout="Deliver", when=when)
    d = decode_pdu(pdu)
    assert isinstance(d, Deliver) and d.sender_ton == 5
    assert d.sender == "Info§SMS"  # ASCII '_' (0x5F) is '§' in GSM 7-bit
    [o] = encode_deliver("Info_SMS", "hi", timestamp=when)
    ours = decode_pdu(o.hex)
    assert isinstance(ours, Deliver) and ours.sender == "Info_SMS"


def test_gammu_bug_time_zone_written_as_00() -> None:
    when = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=3)))
    [(_, pdu)] = gammu_pdus("hi", layout="Deliver", when=when)
    assert pdu.hex().upper().endswith("421020304050" + "00" + "02E834")  # SCTS with TZ 00
    d = decode_pdu(pdu)
    assert isinstance(d, Deliver) and d.timestamp.utcoffset() == timedelta(0)
    [o] = encode_deliver(DEST, "hi", timestamp=when)
    assert "42102030405021" in o.hex  # +3 h = 12 quarter-hours -> swapped BCD 0x21


def test_gammu_bug_text_over_read_with_escapes() -> None:
    [o] = encode_deliver(DEST, "short ~ {x}", timestamp=datetime(2024, 1, 1, tzinfo=UTC))
    raw = gammu.DecodePDU(bytes.fromhex(o.hex), True)
    assert raw["Text"] != "short ~ {x}"  # python-gammu's Text runs past the septet count
    assert raw["Text"].startswith("short ~ {x}")
    assert decode_pdu(o.hex).text == "short ~ {x}"


def test_gammu_has_no_status_report_builder() -> None:
    with pytest.raises((ValueError, TypeError, gammu.GSMError)):
        smsc = {"Location": 0, "Number": SMSC, "Validity": "NA"}
        gammu.EncodePDU({"Number": DEST, "Text": "", "SMSC": smsc, "Type": "Status_Report"}, "StatusReport")
    ts = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone(timedelta(hours=2)))
    p = encode_status_report(mr=77, recipient=DEST, scts=ts, discharge_time=ts + timedelta(seconds=30),
                             status=0x00, smsc=SMSC)
    g = gammu.DecodePDU(bytes.fromhex(p.hex), True)
    assert (g["Type"], g["MessageReference"]) == ("Status_Report", 77)
    assert (g["Number"], g["DeliveryStatus"]) == (DEST, 0)
    r = decode_pdu(p.hex)
    assert isinstance(r, StatusReport) and r.delivered
