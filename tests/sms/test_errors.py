"""Malformed input raises PduError (a ValueError) naming the field and the octet offset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from modembridge.sms import PduError, decode_pdu, encode_deliver, encode_status_report, encode_submit

from .helpers import deliver_hex, septets_hex

GOOD = "07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07"
TS = datetime(2024, 1, 1, tzinfo=UTC)


def test_pdu_error_is_value_error() -> None:
    assert issubclass(PduError, ValueError)


@pytest.mark.parametrize(
    ("pdu", "match"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("0G", "invalid hex digit 'G' at character 1"),
        ("079", "odd number"),
        (b"", "empty"),
    ],
)
def test_bad_input(pdu: str | bytes, match: str) -> None:
    with pytest.raises(PduError, match=match):
        decode_pdu(pdu)


def test_tpdu_length_detects_smsc_prefix() -> None:
    assert decode_pdu(GOOD, tpdu_length=30).smsc == "+31624000000"
    assert decode_pdu(GOOD[16:], tpdu_length=30).smsc is None  # modem left the SMSC part out
    assert decode_pdu(GOOD[16:], smsc=True, tpdu_length=30).text == "How are you?"
    with pytest.raises(PduError, match="fits neither <length> 31"):
        decode_pdu(GOOD, tpdu_length=31)


def test_wrong_type() -> None:
    with pytest.raises(PduError, match="hex string or bytes"):
        decode_pdu(123)  # type: ignore[arg-type]


def test_whitespace_and_case_tolerated() -> None:
    spaced = " ".join(GOOD[i:i + 8] for i in range(0, len(GOOD), 8)).lower() + "\r\n"
    assert decode_pdu(spaced).text == "How are you?"
    assert decode_pdu(bytes.fromhex(GOOD)).text == "How are you?"


def test_every_truncation_is_reported() -> None:
    raw = bytes.fromhex(GOOD)
    for n in range(1, len(raw)):
        with pytest.raises(PduError, match=r"truncated|TP-UDL"):
            decode_pdu(raw[:n])


@pytest.mark.parametrize(
    ("n", "field"),
    [(1, "SMSC"), (8, "first octet"), (9, "TP-OA length"), (12, "TP-OA digits"), (17, "TP-PID"),
     (18, "TP-DCS"), (20, "TP-SCTS"), (26, "TP-UDL")],
)
def test_truncation_names_field_and_offset(n: int, field: str) -> None:
    with pytest.raises(PduError) as exc:
        decode_pdu(bytes.fromhex(GOOD)[:n])
    assert field in str(exc.value) and "octet" in str(exc.value)


def test_udl_beyond_data() -> None:
    # python-gsmmodem's example: UDL 0xA0 (160 octets of UCS2) but only 10 octets follow
    msg = "TP-UDL at octet 13 declares 160 octets of user data, only 10 octets follow"
    with pytest.raises(PduError, match=msg):
        decode_pdu("0041010C910661345542F60008A0050003000301306F3044")
    with pytest.raises(PduError, match="septets"):
        decode_pdu(deliver_hex(0x00, 20, septets_hex([0x41] * 10)))


def test_bad_udh_lengths() -> None:
    with pytest.raises(PduError, match=r"TP-UDHL 9 .* exceeds"):
        decode_pdu(deliver_hex(0x04, 4, "09000300", fo=0x44))
    with pytest.raises(PduError, match=r"IE 0x00 .* declares 5 octets"):
        decode_pdu(deliver_hex(0x04, 6, "0500050102AA", fo=0x44))
    with pytest.raises(PduError, match="no length octet"):
        decode_pdu(deliver_hex(0x04, 2, "0100", fo=0x44))
    with pytest.raises(PduError, match=r"UDHI set but TP-UDL .* is 0"):
        decode_pdu(deliver_hex(0x04, 0, "", fo=0x44))
    with pytest.raises(PduError, match="smaller than the 6-octet UDH"):
        decode_pdu(deliver_hex(0x00, 6, "050003010201", fo=0x44))


def test_invalid_fields() -> None:
    with pytest.raises(PduError, match="reserved TP-MTI"):
        decode_pdu("0043010C910661345542F60008A0050003000301306F3044")
    with pytest.raises(PduError, match="TP-OA length 21"):
        decode_pdu("0004159100")
    with pytest.raises(PduError, match="SMSC length 13"):
        decode_pdu("0D91" + "11" * 12)
    with pytest.raises(PduError, match="TP-SCTS month: octet 0xA0 at 13 is not BCD"):
        decode_pdu(deliver_hex(0, 0, "").replace("42103021436500", "42A03021436500"))
    with pytest.raises(PduError, match="invalid date"):
        decode_pdu(deliver_hex(0, 0, "").replace("42103021436500", "42314021436500"))  # 2024-13-04


def test_invalid_concat_ie_is_ignored_not_fatal() -> None:
    d = decode_pdu(deliver_hex(0x04, 7, "0500030A0003" + "41", fo=0x44))  # seq 3 of 0 parts
    assert d.concat is None and d.udh[0].iei == 0 and d.data == b"A"


def test_encode_errors() -> None:
    with pytest.raises(PduError, match="destination"):
        encode_submit("not a number", "x")
    with pytest.raises(PduError, match="destination"):
        encode_submit("", "x")
    with pytest.raises(PduError, match="U\\+1F600"):
        encode_submit("+1", "😀", encoding="gsm7")
    with pytest.raises(PduError, match="either text or data"):
        encode_submit("+1", "x", data=b"x")
    with pytest.raises(PduError, match="concat_ref"):
        encode_submit("+1", "x" * 200, concat_ref=256)
    with pytest.raises(PduError, match="ref_bits"):
        encode_submit("+1", "x", ref_bits=12)
    with pytest.raises(PduError, match="mr"):
        encode_submit("+1", "x", mr=300)
    with pytest.raises(PduError, match="unpaired surrogate"):
        encode_submit("+1", "a\ud800b")
    with pytest.raises(PduError, match="11 GSM"):
        encode_deliver("VeryLongSenderName", "x", timestamp=TS)
    with pytest.raises(PduError, match="quarter-hours"):
        encode_deliver("+1", "x", timestamp=datetime(2024, 1, 1, tzinfo=timezone(timedelta(minutes=10))))
    with pytest.raises(PduError, match="2000-2099"):
        encode_deliver("+1", "x", timestamp=datetime(1999, 1, 1, tzinfo=UTC))
    with pytest.raises(PduError, match="recipient"):
        encode_status_report(mr=1, recipient="abc", scts=TS, discharge_time=TS, status=0)
