"""Fuzzing decode_pdu: random bytes, random strings, mutated valid PDUs. Only PduError may escape.

The fast tests are derandomized (same inputs every run); the @slow deep run explores new ones each time.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modembridge.sms import PduError, decode_pdu, encode_deliver, encode_status_report, encode_submit
from modembridge.sms.pdu import Deliver, StatusReport, Submit

TS = datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC)
SEEDS = [
    bytes.fromhex(h)
    for h in [
        "07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07",
        "0791448720003023240DD0E474D81C0EBB010000111011315214000BE474D81C0EBB5DE3771B",
        "0006D60B911326880736F4111011719551401110117195714000",
        "0019000B917228001011F100003170013193008017D474BB3CA787DB70903DCC4E93D3F43C885E9ED301",
        "0041000B915121551532F40000631A0A031906200A032104100A032705040A032E05080A043807002B8ACD29A85D9ECFC3"
        "E7F21C340EBB41E3B79B1E4EBB41697A989D1EB340E2379BCC02B1C3F27399059AB7C36C3628EC2683C66FF65B5E2683E8653C1D",
        *(p.hex for p in encode_submit("+254712345678", "Ğğ ı €{} " * 30, language_shift=True)),
        *(p.hex for p in encode_deliver("Sender@_$", "😀 emoji " * 12, timestamp=TS, ref_bits=16)),
        *(p.hex for p in encode_deliver("+1", data=bytes(range(200)), timestamp=TS)),
        encode_status_report(mr=1, recipient="+1", scts=TS, discharge_time=TS, status=0x41).hex,
    ]
]


def check(pdu: str | bytes, smsc: bool = True) -> None:
    try:
        out = decode_pdu(pdu, smsc=smsc)
    except PduError:
        return
    assert isinstance(out, Deliver | Submit | StatusReport)
    assert isinstance(out.text, str)
    out.text.encode("utf-8")  # never a lone surrogate: always postable as UTF-8


@settings(max_examples=1500, deadline=None, derandomize=True)
@given(st.binary(max_size=200), st.booleans())
def test_random_bytes(data: bytes, smsc: bool) -> None:
    check(data, smsc)


@settings(max_examples=500, deadline=None, derandomize=True)
@given(st.text(max_size=120))
def test_random_strings(s: str) -> None:
    check(s)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    buf = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate", "extend"]))
        i = draw(st.integers(0, max(0, len(buf) - 1)))
        if op == "flip" and buf:
            buf[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and buf:
            interesting = [0x00, 0x01, 0x08, 0x40, 0x44, 0x7F, 0x80, 0xA0, 0xFF]
            buf[i] = draw(st.sampled_from([*interesting, draw(st.integers(0, 255))]))
        elif op == "insert":
            buf.insert(i, draw(st.integers(0, 255)))
        elif op == "delete" and buf:
            del buf[i]
        elif op == "truncate":
            del buf[i:]
        elif op == "extend":
            buf += draw(st.binary(max_size=20))
    return bytes(buf)


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(mutated(), st.booleans())
def test_mutated_valid_pdus(pdu: bytes, as_hex: bool) -> None:
    check(pdu.hex() if as_hex else pdu)


@pytest.mark.slow
@settings(max_examples=4000, deadline=None, derandomize=False)
@given(mutated(), st.binary(max_size=300))
def test_mutated_valid_pdus_deep(pdu: bytes, junk: bytes) -> None:
    check(pdu)
    check(junk, smsc=False)


def test_seeds_decode() -> None:
    for s in SEEDS:
        decode_pdu(s)
