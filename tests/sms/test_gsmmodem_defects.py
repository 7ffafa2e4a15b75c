"""The python-gsmmodem-new 0.13 defects that made us write this codec, pinned next to our behaviour.

If gsmmodem fixes one of these, the matching assertion about gsmmodem fails and this file needs updating;
our half of each test must keep passing.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from modembridge.sms import Deliver, decode_pdu, encode_deliver, encode_submit

g = pytest.importorskip("gsmmodem.pdu")
TS = datetime(2024, 1, 1, tzinfo=UTC)
NUM = "+254712345678"


def test_emoji() -> None:
    with pytest.raises(ValueError):
        g.encodeSmsSubmitPdu(NUM, "hi 😀")  # gsmmodem crashes
    [p] = encode_submit(NUM, "hi 😀")
    assert decode_pdu(p.hex).text == "hi 😀"
    [d] = encode_deliver(NUM, "hi 😀", timestamp=TS)
    assert g.decodeSmsPdu(d.hex)["text"] == "hi \ud83d\ude00"  # lone surrogates, not UTF-8 encodable
    assert decode_pdu(d.hex).text == "hi 😀"


def test_16bit_concat_reference() -> None:
    pdus = encode_deliver(NUM, "abcdefghij" * 20, timestamp=TS, ref_bits=16)
    assert g.decodeSmsPdu(pdus[0].hex)["text"].startswith("bcdef")  # first character dropped
    assert decode_pdu(pdus[0].hex).text.startswith("abcdef")


def test_trailing_at() -> None:
    [d] = encode_deliver(NUM, "1234567@", timestamp=TS)
    assert g.decodeSmsPdu(d.hex)["text"] == "1234567"
    assert decode_pdu(d.hex).text == "1234567@"


def test_section_sign() -> None:
    [d] = encode_deliver(NUM, "§ ok", timestamp=TS)
    assert g.decodeSmsPdu(d.hex)["text"] == "` ok"
    assert decode_pdu(d.hex).text == "§ ok"
    assert g.encodeSmsSubmitPdu(NUM, "§")[0].data.hex().endswith("080200a7")  # needlessly UCS-2
    [p] = encode_submit(NUM, "§")
    assert decode_pdu(p.hex).encoding == "gsm7"


def test_dcs_and_class() -> None:
    [d] = encode_deliver(NUM, "flash", timestamp=TS, flash=True)
    assert not {"dcs", "class", "message_class"} & set(g.decodeSmsPdu(d.hex))  # not reported
    ours = decode_pdu(d.hex)
    assert isinstance(ours, Deliver) and (ours.dcs, ours.message_class) == (0x10, 0)
