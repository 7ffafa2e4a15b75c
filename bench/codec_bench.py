"""SMS codec throughput: decode and encode rates (messages/s) for typical single- and multi-part messages,
compared with python-gsmmodem-new's gsmmodem.pdu where it works on the same input.

    .venv/bin/python bench/codec_bench.py [--seconds S]

Prints a markdown table. One message = all its parts (decode includes joining the parts).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from modembridge.sms import Deliver, decode_pdu, encode_deliver, encode_submit, join_parts

TS = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
CASES: dict[str, str] = {
    "gsm7 single (40 chars)": "Your code is 482913. It expires in 5 min",
    "gsm7 3 parts (400 chars)": ("Meeting moved to 3pm in room 4, bring the Q2 numbers please. " * 7)[:400],
    "ucs2 single (emoji, 30 units)": "Habari! 😀 Karibu sana 👍🏽 ok",
    "ucs2 3 parts (Cyrillic, 180 chars)": ("Привет, как дела? Встреча в 15:00. " * 6)[:180],
}


def rate(fn: Callable[[], object], seconds: float) -> float:
    fn()
    n, start = 0, time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(50):
            fn()
        n += 50
        now = time.perf_counter()
        if now >= deadline:
            return n / (now - start)


def ours_decode(pdus: list[str]) -> Callable[[], object]:
    def run() -> object:
        parts = [decode_pdu(p) for p in pdus]
        return join_parts([p for p in parts if isinstance(p, Deliver)])
    return run


Fn = Callable[[], object]


def gsmmodem_fns(text: str, pdus: list[str]) -> tuple[Fn | None, Fn | None]:
    try:
        import gsmmodem.pdu as g
    except ImportError:
        return None, None

    def dec() -> object:
        return "".join(g.decodeSmsPdu(p)["text"] for p in pdus)

    def enc() -> object:
        return g.encodeSmsSubmitPdu("+254712345678", text, requestStatusReport=False)

    ok_dec: Callable[[], object] | None = dec
    ok_enc: Callable[[], object] | None = enc
    try:
        if dec() != text:
            ok_dec = None  # wrong result: do not time it
    except Exception:
        ok_dec = None
    try:
        enc()
    except Exception:
        ok_enc = None
    return ok_dec, ok_enc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=1.0, help="time per measurement (default 1 s)")
    args = ap.parse_args()
    print(f"Python {platform.python_version()} on {platform.machine()}, {args.seconds:g} s per cell\n")
    print("| message | parts | decode msgs/s | encode_submit msgs/s | gsmmodem decode | gsmmodem encode |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, text in CASES.items():
        pdus = [p.hex for p in encode_deliver("+254712345678", text, timestamp=TS, concat_ref=9)]
        dec = rate(ours_decode(pdus), args.seconds)
        enc = rate(partial(encode_submit, "+254712345678", text, concat_ref=9), args.seconds)
        gdec, genc = gsmmodem_fns(text, pdus)
        gd = f"{rate(gdec, args.seconds):,.0f}" if gdec else "wrong/crash"
        ge = f"{rate(genc, args.seconds):,.0f}" if genc else "crash"
        print(f"| {name} | {len(pdus)} | {dec:,.0f} | {enc:,.0f} | {gd} | {ge} |")


if __name__ == "__main__":
    main()
