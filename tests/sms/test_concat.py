"""Concatenation: join_parts and the Reassembler (disorder, duplicates, expiry, 16-bit refs, other IEs)."""

from __future__ import annotations

from datetime import UTC, datetime

from modembridge.sms import Deliver, Reassembler, decode_pdu, encode_deliver, join_parts

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


def test_reassembler_out_of_order_with_duplicates() -> None:
    r = Reassembler()
    p1, p2, p3 = parts(LONG)
    assert r.add(p3, 1.0, tag="sim:3") is None
    assert r.add(p1, 2.0, tag="sim:1") is None
    assert r.add(p1, 2.5, tag="sim:1b") is None  # duplicate of seq 1
    msg = r.add(p2, 3.0, tag="sim:2")
    assert msg is not None and msg.complete and msg.missing == ()
    assert msg.text == LONG and msg.sender == "+15550001"
    assert [p.concat.seq for p in msg.parts if p.concat] == [1, 2, 3]
    assert msg.tags == ("sim:3", "sim:1", "sim:1b", "sim:2")
    assert len(r) == 0
    assert r.add(p2, 4.0) is None  # late duplicate after completion is dropped, not a new message


def test_single_part_passes_straight_through() -> None:
    [p] = encode_deliver("+15550001", "hi", timestamp=TS)
    d = decode_pdu(p.hex)
    assert isinstance(d, Deliver)
    msg = Reassembler().add(d, 0.0)
    assert msg is not None and msg.complete and msg.text == "hi" and msg.key is None


def test_expire_returns_incomplete_with_missing_parts() -> None:
    r = Reassembler()
    p1, _, p3 = parts(LONG)
    r.add(p1, 0.0)
    r.add(p3, 10.0)
    assert r.expire(now=50.0, timeout=60.0) == []
    [msg] = r.expire(now=70.0, timeout=60.0)
    assert not msg.complete and msg.missing == (2,)
    assert msg.text == p1.text + p3.text
    assert len(r) == 0


def test_keys_separate_senders_refs_and_ref_bits() -> None:
    r = Reassembler()
    a = parts(LONG, sender="+1", ref=5)
    b = parts(LONG.upper(), sender="+2", ref=5)
    c = parts(LONG.lower(), sender="+1", ref=5, ref_bits=16)
    results = [r.add(p, 0.0) for group in zip(a, b, c, strict=True) for p in group]
    done = [m for m in results if m is not None]
    assert sorted(m.text for m in done) == sorted([LONG, LONG.upper(), LONG.lower()])
    assert {m.key for m in done if m.key} == {("+1", 5, 3, 8), ("+2", 5, 3, 8), ("+1", 5, 3, 16)}


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
    r = Reassembler()
    r.add(p2, 0.0)
    done = r.add(p1, 0.0)
    assert done is not None and done.data == b"ABCD" and done.text == ""


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
    assert join_parts([p1, p2]) == "a😀b"
    r = Reassembler()
    assert r.add(p2, 0.0) is None
    done = r.add(p1, 1.0)
    assert done is not None and done.text == "a😀b"
