"""Concatenation: join_parts and join_data (disorder, duplicates, other IEs, characters split across parts).

Which parts belong to one message is the journal's job (tests/store/test_inbox.py); the codec only joins."""

from __future__ import annotations

from datetime import UTC, datetime

from modembridge.sms import Deliver, decode_pdu, encode_deliver, join_data, join_parts

from .helpers import deliver_hex, septets_hex

TS = datetime(2024, 6, 1, 8, 0, tzinfo=UTC)
LONG = "The quick brown fox jumps over the lazy dog. " * 8  # 360 chars: 3 parts


def parts(text: str, sender: str = "+15550001", ref: int = 7, ref_bits: int = 8) -> list[Deliver]:
    out = []
    for p in encode_deliver(sender, text, timestamp=TS, concat_ref=ref, ref_bits=ref_bits):
        d = decode_pdu(p.hex)
        assert isinstance(d, Deliver)
        out.append(d)
    return out


def test_join_parts_orders_and_dedupes() -> None:
    ps = parts(LONG)
    assert len(ps) == 3
    assert join_parts([ps[2], ps[0], ps[1], ps[0], ps[2]]) == LONG


def test_join_parts_of_a_single_part_message() -> None:
    [p] = encode_deliver("+15550001", "hi", timestamp=TS)
    d = decode_pdu(p.hex)
    assert isinstance(d, Deliver) and join_parts([d]) == "hi"


def test_join_parts_of_an_incomplete_message_keeps_what_arrived() -> None:
    p1, _, p3 = parts(LONG)
    assert join_parts([p3, p1]) == p1.text + p3.text


def test_16_bit_references_join_like_8_bit_ones() -> None:
    ps = parts(LONG.lower(), ref=0x1234, ref_bits=16)
    assert all(p.concat is not None and p.concat.ref_bits == 16 for p in ps)
    assert join_parts(list(reversed(ps))) == LONG.lower()


def test_other_ies_preserved_and_ignored() -> None:
    # concat IE plus a 'special SMS indication' IE (0x01) in each part, 8-bit data
    def part(seq: int, payload: str) -> Deliver:
        udh = f"09000342020{seq}01020180"  # UDHL 9: concat (ref 0x42, 2 parts) + IEI 0x01
        d = decode_pdu(deliver_hex(0x04, len(udh) // 2 + len(payload) // 2, udh + payload, fo=0x44))
        assert isinstance(d, Deliver)
        return d

    p1, p2 = part(1, "4142"), part(2, "4344")
    assert [ie.iei for ie in p1.udh] == [0x00, 0x01]
    assert p1.concat is not None and (p1.concat.ref, p1.concat.total) == (0x42, 2)
    assert join_data([p2, p1, p2]) == b"ABCD" and join_parts([p2, p1]) == ""


def test_escape_split_across_parts_by_sender() -> None:
    # a careless sender put ESC at the end of part 1 and the euro code at the start of part 2
    def part(seq: int, septets: list[int]) -> Deliver:
        ud = f"0500030902{seq:02X}" + septets_hex(septets, fill=1)
        d = decode_pdu(deliver_hex(0x00, 7 + len(septets), ud, fo=0x44))
        assert isinstance(d, Deliver)
        return d

    p1 = part(1, [0x61, 0x62, 0x1B])
    p2 = part(2, [0x65, 0x63])
    assert p1.text == "ab " and p2.text == "ec"  # each part alone
    assert join_parts([p2, p1]) == "ab€c"


def test_surrogate_pair_split_across_parts_by_sender() -> None:
    def part(seq: int, ucs2_hex: str) -> Deliver:
        ud = f"0500030A02{seq:02X}" + ucs2_hex
        d = decode_pdu(deliver_hex(0x08, 6 + len(ucs2_hex) // 2, ud, fo=0x44))
        assert isinstance(d, Deliver)
        return d

    p1 = part(1, "0061D83D")
    p2 = part(2, "DE000062")
    assert p1.text == "a\ufffd"  # a lone surrogate never leaks into text
    assert join_parts([p2, p1]) == "a😀b"
