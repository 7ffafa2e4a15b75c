"""GSM 7-bit packing: fill bits, '@'/CR corner cases at 8n and 8n-1 septets, escapes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from modembridge.sms import Deliver, decode_pdu, encode_deliver, encode_submit
from modembridge.sms.errors import PduError
from modembridge.sms.gsm7 import (
    BASIC,
    CR,
    EXTENSION,
    decode_octet_counted,
    encode_octet_counted,
    pack_septets,
    septet_length,
    septets_to_text,
    text_to_septets,
    unpack_septets,
)

TS = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)


def test_known_packing() -> None:
    # 23.040 example: "hellohello" packs to E8329BFD4697D9EC37
    assert pack_septets(text_to_septets("hellohello")).hex().upper() == "E8329BFD4697D9EC37"
    assert septets_to_text(unpack_septets(bytes.fromhex("E8329BFD4697D9EC37"), 10)) == "hellohello"


@pytest.mark.parametrize("fill", range(7))
@pytest.mark.parametrize("n", [0, 1, 6, 7, 8, 9, 15, 16, 153, 160])
def test_pack_unpack_with_fill_bits(fill: int, n: int) -> None:
    septets = [(i * 37 + 5) % 128 for i in range(n)]
    packed = pack_septets(septets, fill)
    assert len(packed) == (fill + 7 * n + 7) // 8
    assert unpack_septets(packed, n, fill) == septets
    if n:
        assert packed[0] & ((1 << fill) - 1) == 0  # fill bits are zero


def test_seven_spare_bits_carry_cr() -> None:
    # 7 septets = 49 bits: the last octet has 7 spare bits that must hold CR (23.038 6.1.2.3.1)
    packed = pack_septets(text_to_septets("1234567"))
    assert len(packed) == 7
    assert packed[-1] >> 1 == CR
    assert pack_septets(text_to_septets("1234567"), cr_pad=False)[-1] >> 1 == 0
    # with 1 fill bit after a UDH: 1 + 7*15 = 106 bits: 6 spare, no CR
    assert pack_septets([0x41] * 15, 1)[-1] >> 2 == 0


@pytest.mark.parametrize(
    "text", ["1234567@", "@", "@@@@@@@@", "abcdefghijklmno@", "@" * 160, "x" * 159 + "@"]
)
def test_trailing_at_survives(text: str) -> None:
    [p] = encode_submit("+15550001", text)
    assert decode_pdu(p.hex).text == text
    [d] = encode_deliver("+15550001", text, timestamp=TS)
    assert decode_pdu(d.hex).text == text


@pytest.mark.parametrize("text", ["1234567", "123456\r", "@@@@@@@", "x" * 159, "ab\r" * 5])
def test_cr_padding_is_not_decoded_as_text(text: str) -> None:
    [p] = encode_submit("+15550001", text)
    d = decode_pdu(p.hex)
    assert d.text == text  # UDL bounds the text: the padding CR never shows up


def test_octet_counted_padding() -> None:
    # USSD/CBS style: length only in octets
    assert decode_octet_counted(encode_octet_counted("1234567")) == "1234567"
    assert decode_octet_counted(encode_octet_counted("1234567@")) == "1234567@"
    assert decode_octet_counted(encode_octet_counted("123456\r")) == "123456\r"
    # a real CR at an 8n boundary is doubled on encode and one is stripped on decode
    assert decode_octet_counted(encode_octet_counted("1234567\r")).startswith("1234567\r")
    assert decode_octet_counted(pack_septets(text_to_septets("12345678"))) == "12345678"


def test_extension_table_round_trip() -> None:
    ext = "".join(EXTENSION.values())
    assert septet_length(ext) == 2 * len(ext)
    [p] = encode_submit("+15550001", ext + "|€")
    assert decode_pdu(p.hex).text == ext + "|€"


def test_whole_basic_table_round_trip() -> None:
    text = "".join(ch for ch in BASIC if ch != "\x1b")
    assert septet_length(text) == 127
    [p] = encode_deliver("+15550001", text, timestamp=TS)
    d = decode_pdu(p.hex)
    assert isinstance(d, Deliver) and d.text == text and d.encoding == "gsm7"


def test_special_characters_map_correctly() -> None:
    # python-gsmmodem maps these wrongly or not at all
    assert text_to_septets("§¤¡¿ÇΔ_") == [0x5F, 0x24, 0x40, 0x60, 0x09, 0x10, 0x11]
    assert text_to_septets("€") == [0x1B, 0x65]
    assert septet_length("ç") is None  # only capital Ç is in the default table
    with pytest.raises(PduError, match="U\\+00E7"):
        text_to_septets("ç")


def test_unknown_escape_and_dangling_escape() -> None:
    assert septets_to_text([0x1B, 0x41]) == "A"  # unknown escape code: the basic character (23.038 6.2.1.1)
    assert septets_to_text([0x1B, 0x1B]) == " "  # reserved extension-to-extension: a space
    assert septets_to_text([0x41, 0x1B]) == "A "  # dangling ESC: a space
