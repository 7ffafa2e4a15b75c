"""Command-line splitting, and the engine's output not depending on how input bytes are chunked."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modembridge.sim.atline import AtSyntaxError, Command, parse_line, split_args
from modembridge.sms import encode_submit

from .engine_helpers import Rig


def test_basic_and_extended_mixed() -> None:
    cmds = parse_line('E0V1&FS0=0+CMGF=0;+CPMS="SM","ME";+CMGL=?;+CSQ;^CURC?')
    assert [(c.name, c.kind) for c in cmds] == [
        ("E", "exec"), ("V", "exec"), ("&F", "exec"), ("S0", "set"), ("+CMGF", "set"), ("+CPMS", "set"),
        ("+CMGL", "test"), ("+CSQ", "exec"), ("^CURC", "read")]
    assert cmds[0].raw == "0" and cmds[5].args == ("SM", "ME")


def test_quotes_keep_semicolons_commas_and_case() -> None:
    (cmd,) = parse_line('+CMGS="+1;2,3abc"')
    assert cmd.args == ("+1;2,3abc",)


def test_split_args_empty_fields() -> None:
    assert split_args('2,"",,1') == ("2", "", None, "1")
    with pytest.raises(AtSyntaxError):
        split_args('"open')


def test_int_arg() -> None:
    cmd = Command("+X", "set", "=1,a", ("1", "a"))
    assert cmd.int_arg(0) == 1 and cmd.int_arg(5, 7) == 7
    with pytest.raises(AtSyntaxError):
        cmd.int_arg(1)


def test_dial_consumes_rest() -> None:
    assert [c.name for c in parse_line("D+15551234;")] == ["D"]


CONVERSATION = b"".join([
    b"AT\r", b"ATE0\r", b"ATE1\r", b"AT+CMEE=1;+CSQ\r", b"AT+BOGUS\r", b"AT+CNMI=2,1,0,2,0\r",
    b"AT+CMGS=%d\r" % encode_submit("+1555", "chunked")[0].tpdu_length,
    encode_submit("+1555", "chunked")[0].hex.encode() + b"\x1a",
    b"AT+CMGL=4\r", b"AT+CMGS=9\r", b"00\x1b", b"at+cpms?\r",
])


def run(chunks: list[bytes]) -> tuple[bytes, list[str]]:
    r = Rig(report_delay=1.0)
    r.e.network.inject_text("+1666", "stored first")
    r.take()
    out = b"".join(r.io(c) for c in chunks)
    return out, [s["text"] for s in r.e.network.submitted]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=len(CONVERSATION)), max_size=40))
def test_output_independent_of_chunking(cuts: list[int]) -> None:
    points = sorted(set(cuts))
    chunks = [CONVERSATION[a:b] for a, b in zip([0, *points], [*points, len(CONVERSATION)], strict=True)]
    assert run([c for c in chunks if c]) == run([CONVERSATION])


def test_whole_conversation_once() -> None:
    out, texts = run([CONVERSATION])
    assert texts == ["chunked"]
    assert out.count(b"OK\r\n") == 9 and b"+CME ERROR: 100" in out
