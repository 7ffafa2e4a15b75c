"""The sans-I/O AT parser: plain bytes, byte-at-a-time and random chunkings, real-device transcripts."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from modembridge.at.parser import (
    AtParser,
    Echo,
    Event,
    Final,
    FinalKind,
    Info,
    Prompt,
    Urc,
    UrcKind,
    _is_hex,
    command_name,
)

from .vendor_traces import TRACES, Begin, End, Payload, Rx, Trace

PDU = "07915155000000F0040C9152740000001000006211828042940005E8329BFD06"


def feed_all(data: bytes, command: str | None = None, *, prompt: bool = False,
             chunks: list[int] | None = None) -> list[Event]:
    p = AtParser()
    if command is not None:
        p.begin(command, prompt=prompt)
    if chunks is None:
        return p.feed(data)
    return feed_chunked(p, data, chunks)


def feed_chunked(p: AtParser, data: bytes, chunks: list[int]) -> list[Event]:
    """`data` fed in pieces of the given sizes, the rest in one."""
    out: list[Event] = []
    i = 0
    for n in chunks:
        out += p.feed(data[i:i + n])
        i += n
    out += p.feed(data[i:])
    return out


def bytewise(data: bytes, command: str | None = None, *, prompt: bool = False) -> list[Event]:
    return feed_all(data, command, prompt=prompt, chunks=[1] * len(data))


def test_simple_response_with_echo() -> None:
    data = b"AT+CSQ\r\r\n+CSQ: 17,99\r\n\r\nOK\r\n"
    assert feed_all(data, "AT+CSQ") == [Echo("AT+CSQ"), Info("+CSQ: 17,99"), Final(FinalKind.OK, "OK")]


def test_final_results_of_every_flavour() -> None:
    cases = {
        b"\r\nERROR\r\n": Final(FinalKind.ERROR, "ERROR"),
        b"\r\n+CME ERROR: 10\r\n": Final(FinalKind.CME, "+CME ERROR: 10", 10),
        b"\r\n+CMS ERROR: 500\r\n": Final(FinalKind.CMS, "+CMS ERROR: 500", 500),
        b"\r\n+CME ERROR: SIM not inserted\r\n": Final(FinalKind.CME, "+CME ERROR: SIM not inserted", None,
                                                      "SIM not inserted"),
        b"\r\nCOMMAND NOT SUPPORT\r\n": Final(FinalKind.COMMAND_NOT_SUPPORT, "COMMAND NOT SUPPORT"),
        b"\r\nTOO MANY PARAMETERS\r\n": Final(FinalKind.TOO_MANY_PARAMETERS, "TOO MANY PARAMETERS"),
        b"\r\nABORTED\r\n": Final(FinalKind.ABORTED, "ABORTED"),
    }
    for data, want in cases.items():
        assert feed_all(data, "AT^FOO") == [want], data
        assert not want.ok


@pytest.mark.parametrize("word", ["NO CARRIER", "BUSY", "NO ANSWER", "NO DIALTONE"])
def test_call_results_end_only_call_commands(word: str) -> None:
    data = f"\r\n{word}\r\n".encode()
    for command in ("ATD+4917612345678;", "ATDT0800123456", "ATD*99#", "ATA", "ATO", "ATH",
                    "AT+CGDATA=\"PPP\",1"):
        p = AtParser()
        p.begin(command)
        assert p.feed(data) == [Final(FinalKind(word), word)], command
        assert p.pending is None
    # any other command: a call that ended or failed on its own, not this command's answer
    for command in ("AT+CMGS=18", "AT+CMGL=4", "AT^FOO", "ATI", "AT&D2"):
        p = AtParser()
        p.begin(command)
        assert p.feed(data) == [Urc(word, word, UrcKind.NOISE)], command
        assert p.pending is not None
    assert feed_all(data) == [Urc(word, word, UrcKind.NOISE)]


def test_final_result_ends_the_pending_command() -> None:
    p = AtParser()
    p.begin("AT+CREG?")
    assert p.feed(b"\r\n+CREG: 0,1\r\n\r\nOK\r\n") == [Info("+CREG: 0,1"), Final(FinalKind.OK, "OK")]
    assert p.pending is None
    # the same line now is an unsolicited registration change
    (ev,) = p.feed(b"\r\n+CREG: 5\r\n")
    assert isinstance(ev, Urc) and ev.name == "+CREG" and ev.kind == UrcKind.STATUS


def test_urc_in_the_middle_of_a_response() -> None:
    data = b'\r\n+CMGL: 1,0,,24\r\n' + PDU.encode() + b'\r\n+CMTI: "SM",2\r\n\r\nOK\r\n'
    evs = bytewise(data, "AT+CMGL=4")
    assert evs == [Info("+CMGL: 1,0,,24"), Info(PDU), Urc("+CMTI", '+CMTI: "SM",2', UrcKind.MESSAGE),
                   Final(FinalKind.OK, "OK")]


def test_two_line_cmt_inside_a_response_carries_its_pdu() -> None:
    data = b"\r\n+CSQ: 20,99\r\n\r\n+CMT: ,24\r\n" + PDU.encode() + b"\r\n\r\nOK\r\n"
    evs = bytewise(data, "AT+CSQ")
    assert evs == [Info("+CSQ: 20,99"), Urc("+CMT", "+CMT: ,24", UrcKind.MESSAGE, PDU),
                   Final(FinalKind.OK, "OK")]
    # its pdu line is not mistaken for an information line of the command
    assert Info(PDU) not in evs


def test_two_line_cds_when_idle() -> None:
    (ev,) = feed_all(b"\r\n+CDS: 25\r\n0791" + b"AB" * 10 + b"\r\n")
    assert isinstance(ev, Urc) and ev.name == "+CDS" and ev.pdu == "0791" + "AB" * 10 and ev.value == "25"


def test_cmgr_is_a_response_not_a_urc() -> None:
    data = b"\r\n+CMGR: 0,,24\r\n" + PDU.encode() + b"\r\n\r\nOK\r\n"
    assert bytewise(data, "AT+CMGR=1") == [Info("+CMGR: 0,,24"), Info(PDU), Final(FinalKind.OK, "OK")]


def test_prompt_without_line_ending_then_pdu_echo_and_result() -> None:
    p = AtParser()
    p.begin("AT+CMGS=24", prompt=True)
    evs = []
    for b in b"AT+CMGS=24\r\r\n> ":
        evs += p.feed(bytes([b]))
    assert evs == [Echo("AT+CMGS=24"), Prompt()]
    p.expect_echo(PDU)
    evs = p.feed(PDU.encode() + b"\r\n+CMGS: 7\r\n\r\nOK\r\n")
    assert evs == [Echo(PDU), Info("+CMGS: 7"), Final(FinalKind.OK, "OK")]


def test_gt_is_not_a_prompt_unless_one_is_expected() -> None:
    evs = feed_all(b"\r\n> x\r\nOK\r\n", "AT+CSQ")
    assert Prompt() not in evs and evs[-1] == Final(FinalKind.OK, "OK")


def test_prompt_refused_with_error() -> None:
    assert feed_all(b"\r\n+CMS ERROR: 304\r\n", "AT+CMGS=300", prompt=True) == [
        Final(FinalKind.CMS, "+CMS ERROR: 304", 304)]


def test_echo_recognised_even_when_not_expected_after_ate0() -> None:
    # a modem that restarted echoes again: the driver counts it as a restart hint
    p = AtParser()
    p.begin("AT+CSQ")
    evs = p.feed(b"AT+CSQ\r\r\n+CSQ: 5,99\r\n\r\nOK\r\n")
    assert evs[0] == Echo("AT+CSQ") and p.echo_seen == 1


def test_garbage_bytes_are_dropped() -> None:
    data = b"\xff\x00\xfe\r\n\x00OK\x00\r\n"
    assert feed_all(data, "AT") == [Final(FinalKind.OK, "OK")]
    evs = feed_all(b"\x80\x81\x82\r\n\x9a\r\n+CSQ: 1,2\r\nOK\r\n", "AT+CSQ")
    assert evs == [Info("+CSQ: 1,2"), Final(FinalKind.OK, "OK")]


def test_endless_garbage_without_line_ending_is_bounded() -> None:
    p = AtParser()
    p.begin("AT")
    assert p.feed(b"x" * 100_000) == []
    assert len(p._buf) <= 4096
    assert p.feed(b"\r\nOK\r\n")[-1] == Final(FinalKind.OK, "OK")


def test_vendor_noise_while_a_command_is_pending_is_not_a_response_line() -> None:
    data = (b"\r\n^RSSI:17\r\n\r\n356789012345678\r\n\r\n^MODE:5,4\r\n\r\n^DSFLOWRPT:0000,00\r\n"
            b"\r\nOK\r\n")
    evs = bytewise(data, "AT+CGSN")
    assert [e for e in evs if isinstance(e, Info)] == [Info("356789012345678")]
    assert {e.name for e in evs if isinstance(e, Urc)} == {"^RSSI", "^MODE", "^DSFLOWRPT"}


def test_simcom_boot_banner_restart_and_noise() -> None:
    evs = feed_all(b"\r\nRDY\r\n\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n\r\nCall Ready\r\n\r\nSMS Ready\r\n")
    kinds = [(e.name, e.kind) for e in evs if isinstance(e, Urc)]
    assert kinds[0] == ("RDY", UrcKind.RESTART)
    assert all(k != UrcKind.RESTART for _, k in kinds[1:]) and len(kinds) == 5


def test_cpin_ready_is_a_response_to_cpin_query() -> None:
    evs = feed_all(b"\r\n+CPIN: READY\r\n\r\nOK\r\n", "AT+CPIN?")
    assert evs == [Info("+CPIN: READY"), Final(FinalKind.OK, "OK")]


def test_huawei_sysstart_is_a_restart() -> None:
    (ev,) = feed_all(b"\r\n^SYSSTART\r\n")
    assert isinstance(ev, Urc) and ev.kind == UrcKind.RESTART


@pytest.mark.parametrize("line", [b"POWERED DOWN", b"NORMAL POWER DOWN", b"UNDER-VOLTAGE POWER DOWN"])
def test_power_down_notices_during_a_command_are_noise_not_its_answer(line: bytes) -> None:
    events = feed_all(b"\r\n" + line + b"\r\n\r\n001010123456789\r\n\r\nOK\r\n", "AT+CIMI")
    infos = [e.text for e in events if isinstance(e, Info)]
    assert infos == ["001010123456789"]
    assert any(isinstance(e, Urc) and e.kind == UrcKind.NOISE for e in events)


def test_neoway_startup_banner_is_a_restart() -> None:
    (ev,) = feed_all(b"\r\nMODEM:STARTUP\r\n")
    assert isinstance(ev, Urc) and ev.kind == UrcKind.RESTART


def test_lone_cr_and_lf_endings() -> None:
    assert feed_all(b"\n+CSQ: 3,4\nOK\n", "AT+CSQ") == [Info("+CSQ: 3,4"), Final(FinalKind.OK, "OK")]
    assert feed_all(b"\r+CSQ: 3,4\rOK\r", "AT+CSQ") == [Info("+CSQ: 3,4"), Final(FinalKind.OK, "OK")]


def test_command_name() -> None:
    assert command_name("AT+CMGR=3") == "+CMGR"
    assert command_name("at^curc=0") == "^CURC"
    assert command_name("ATE0") is None


# --- real-device transcripts (as captured, echo on, vendor chatter included) -------------------------------
TRANSCRIPTS: list[tuple[str, str, bytes, list[str], list[str]]] = [
    # (vendor, command, bytes, information lines, URC names)
    ("huawei E173", "AT+CPMS?",
     b'AT+CPMS?\r\r\n+CPMS: "SM",2,50,"SM",2,50,"SM",2,50\r\n\r\n^RSSI:14\r\n\r\nOK\r\n',
     ['+CPMS: "SM",2,50,"SM",2,50,"SM",2,50'], ["^RSSI"]),
    ("huawei E1550", "AT+CMGL=4",
     b"\r\n^BOOT:12345678,0,0,0,6\r\n\r\n+CMGL: 0,1,,24\r\n" + PDU.encode() + b"\r\n\r\nOK\r\n",
     ["+CMGL: 0,1,,24", PDU], ["^BOOT"]),
    ("sim800", "AT+CMGR=1",
     b'AT+CMGR=1\r\r\n+CMGR: 0,"",24\r\n' + PDU.encode() + b"\r\n\r\nOK\r\n",
     ['+CMGR: 0,"",24', PDU], []),
    ("sim800", "AT+CCID", b"AT+CCID\r\r\n89014103211118510720\r\n\r\nOK\r\n", ["89014103211118510720"], []),
    ("quectel EC25", "AT+CSQ",
     b"\r\n+QIND: SMS DONE\r\n\r\n+CSQ: 31,99\r\n\r\nOK\r\n", ["+CSQ: 31,99"], ["+QIND"]),
    ("quectel EC25", "AT+QCCID", b"\r\n+QCCID: 89860317482042018017\r\n\r\nOK\r\n",
     ["+QCCID: 89860317482042018017"], []),
    ("sim7600", "AT+CPMS=?",
     b'\r\n+CPMS: ("ME","MT","SM","SR"),("ME","MT","SM"),("ME","SM")\r\n\r\nOK\r\n',
     ['+CPMS: ("ME","MT","SM","SR"),("ME","MT","SM"),("ME","SM")'], []),
    ("generic ATI", "ATI", b"ATI\r\r\nManufacturer: huawei\r\nModel: E173\r\nRevision: 11.126\r\n\r\nOK\r\n",
     ["Manufacturer: huawei", "Model: E173", "Revision: 11.126"], []),
]


def test_real_device_transcripts_whole_and_bytewise() -> None:
    for vendor, command, data, info, urcs in TRANSCRIPTS:
        for evs in (feed_all(data, command), bytewise(data, command)):
            assert [e.text for e in evs if isinstance(e, Info)] == info, vendor
            assert [e.name for e in evs if isinstance(e, Urc)] == urcs, vendor
            assert evs[-1] == Final(FinalKind.OK, "OK"), vendor


STREAM = (b"AT+CMGL=4\r\r\n^RSSI:12\r\n+CMGL: 1,0,,24\r\n" + PDU.encode() + b"\r\n\r\n+CMT: ,24\r\n"
          + PDU.encode() + b"\r\n+CMGL: 2,1,,24\r\n" + PDU.encode() + b"\r\n\xff\x00\r\nOK\r\n"
          + b"\r\n+CMTI: \"SM\",3\r\n\r\nRDY\r\n")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=40), max_size=60))
def test_any_chunking_gives_the_same_events(chunks: list[int]) -> None:
    assert feed_all(STREAM, "AT+CMGL=4", chunks=chunks) == feed_all(STREAM, "AT+CMGL=4")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.lists(st.integers(min_value=1, max_value=20), max_size=30))
def test_random_bytes_never_crash_and_chunking_is_invariant(data: bytes, chunks: list[int]) -> None:
    whole = feed_all(data, "AT+CSQ", prompt=True)
    assert feed_all(data, "AT+CSQ", prompt=True, chunks=chunks) == whole
    for ev in whole:
        if isinstance(ev, Info | Echo | Urc):
            assert ev.text and all(0x20 <= ord(c) < 0x7F or c == "\t" for c in ev.text)


class BytewiseParser(AtParser):
    """The parser as first written: a byte at a time, and garbage dropped a byte at a time, in Python.
    AtParser buffers each run of bytes up to a delimiter in one piece and drops garbage with
    bytes.translate; it must see exactly what this one sees."""

    def feed(self, data: bytes) -> list[Event]:
        events: list[Event] = []
        for b in data:
            if b in (0x0D, 0x0A, 0x1A, 0x1B):
                self._line(self._take(), events)
                continue
            if b == 0x3E and self._expect_prompt and not "".join(
                    chr(c) for c in self._buf if 0x20 <= c < 0x7F or c == 0x09).strip():
                self._take()
                self._expect_prompt = False
                events.append(Prompt())
                continue
            self._buf.append(b)
            if len(self._buf) > 4096:
                self.garbage_bytes += len(self._buf)
                self._buf.clear()
        return events

    def _take(self) -> str:
        raw = bytes(self._buf)
        self._buf.clear()
        self.garbage_bytes += sum(1 for c in raw if not (0x20 <= c < 0x7F or c == 0x09))
        return "".join(chr(c) for c in raw if 0x20 <= c < 0x7F or c == 0x09).strip()


@given(st.text(alphabet="0123456789abcdefABCDEFgG \u0660", max_size=12))
def test_hex_lines_are_told_as_before(line: str) -> None:
    assert _is_hex(line) == (len(line) % 2 == 0 and all(c in "0123456789abcdefABCDEF" for c in line))


# Bytes the parser treats specially, so random data hits its branches often.
_SPECIAL = st.sampled_from([b"\r", b"\n", b"\x1a", b"\x1b", b">", b"> ", b"\x00", b"\xff", b"OK", b"ERROR",
                            b"+CMS ERROR: 500", b"+CMT: ,22", PDU.encode(), b"+CSQ: 9,99", b"RING", b"AT+CSQ",
                            b'+CUSD: 0,"a', b'b"', b"x" * 1500])


@settings(max_examples=300, deadline=None)
@example([b"x" * 5000, b"\r\nOK\r\n"], ("AT+CSQ", False), [])
@example([b"x" * 4000, b"\xff" * 9000, b">", b"x" * 100, b"\r"], ("AT+CMGS=22", True), [4090, 7, 5000])
@given(st.lists(st.one_of(_SPECIAL, st.binary(max_size=40)), max_size=40),
       st.sampled_from([("AT+CSQ", False), ("AT+CMGS=22", True), ("AT+CUSD=1", False), (None, False)]),
       st.lists(st.integers(min_value=1, max_value=64), max_size=20))
def test_run_at_a_time_equals_byte_at_a_time(pieces: list[bytes], command: tuple[str | None, bool],
                                             chunks: list[int]) -> None:
    data = b"".join(pieces)
    fast, slow = AtParser(), BytewiseParser()
    for p in (fast, slow):
        if command[0] is not None:
            p.begin(command[0], prompt=command[1])
    assert feed_chunked(fast, data, chunks) == slow.feed(data)
    assert fast.garbage_bytes == slow.garbage_bytes and bytes(fast._buf) == bytes(slow._buf)


def test_stream_events() -> None:
    evs = feed_all(STREAM, "AT+CMGL=4")
    assert [type(e).__name__ for e in evs] == ["Echo", "Urc", "Info", "Info", "Urc", "Info", "Info", "Final",
                                                "Urc", "Urc"]
    assert isinstance(evs[4], Urc) and evs[4].pdu == PDU
    assert isinstance(evs[-1], Urc) and evs[-1].kind == UrcKind.RESTART


def test_a_line_named_for_another_command_is_not_a_response_line() -> None:
    # the late answer of a timed-out AT+CPMS? arriving while AT+CSQ is pending
    evs = feed_all(b'\r\n+CPMS: "SM",1,30\r\n+CSQ: 3,99\r\nOK\r\n', "AT+CSQ")
    assert [e for e in evs if isinstance(e, Info)] == [Info("+CSQ: 3,99")]


# --- vendor traces (tests/at/vendor_traces.py): whole, byte by byte, any chunking, with garbage added ------
def run_trace(trace: Trace,
              split: Callable[[bytes], list[bytes]] | None = None) -> tuple[list[Event], AtParser]:
    """Replay a trace's steps on a fresh parser; ``split`` cuts each received block into feed() calls."""
    p = AtParser()
    out: list[Event] = []
    for step in trace.steps:
        if isinstance(step, Begin):
            p.begin(step.command, prompt=step.prompt)
        elif isinstance(step, Payload):
            p.expect_echo(step.text)
        elif isinstance(step, End):
            p.end()
        else:
            for chunk in (split(step.data) if split is not None else [step.data]):
                out += p.feed(chunk)
    return out, p


def cut(sizes: list[int]) -> Callable[[bytes], list[bytes]]:
    """A splitter cutting every block at the given sizes (cycled), the rest in one piece."""
    def split(data: bytes) -> list[bytes]:
        out, i, k = [], 0, 0
        while i < len(data):
            n = sizes[k % len(sizes)] if sizes else len(data)
            out.append(data[i:i + n])
            i, k = i + n, k + 1
        return out
    return split


def garbage_logs(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "modembridge.at.parser" and "garbage" in r.getMessage()]


@pytest.mark.parametrize("trace", TRACES, ids=[t.name for t in TRACES])
def test_vendor_trace_fed_whole(trace: Trace, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="modembridge.at.parser")
    events, p = run_trace(trace)
    assert events == list(trace.events), trace.device
    assert p.garbage_bytes == trace.garbage
    assert bool(garbage_logs(caplog)) == bool(trace.garbage)  # skipped, and logged


@pytest.mark.parametrize("trace", TRACES, ids=[t.name for t in TRACES])
def test_vendor_trace_fed_byte_by_byte(trace: Trace, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="modembridge.at.parser")
    _, whole = run_trace(trace)
    whole_logs = len(garbage_logs(caplog))
    caplog.clear()
    events, p = run_trace(trace, lambda data: [data[i:i + 1] for i in range(len(data))])
    assert events == list(trace.events), trace.device
    assert p.garbage_bytes == whole.garbage_bytes == trace.garbage
    assert len(garbage_logs(caplog)) == whole_logs  # the same lines are reported however the bytes come


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(TRACES), st.lists(st.integers(min_value=1, max_value=64), min_size=1, max_size=40))
def test_vendor_trace_any_chunking(trace: Trace, sizes: list[int]) -> None:
    events, p = run_trace(trace, cut(sizes))
    assert events == list(trace.events), trace.device
    assert p.garbage_bytes == trace.garbage


# bytes that cannot be text: controls other than TAB and the line enders (CR, LF, Ctrl-Z, ESC), and 0x7F-0xFF
NOT_TEXT = bytes(b for b in range(256) if (b < 0x20 and b not in (0x09, 0x0A, 0x0D, 0x1A, 0x1B)) or b >= 0x7F)


def with_garbage(trace: Trace, inserts: list[tuple[int, int, bytes]]) -> tuple[Trace, int]:
    """The trace with garbage inserted at (rx block, position, bytes), wrapped to the blocks it has."""
    rx = [i for i, s in enumerate(trace.steps) if isinstance(s, Rx)]
    steps = list(trace.steps)
    added = 0
    for block, pos, junk in inserts:
        i = rx[block % len(rx)]
        step = steps[i]
        assert isinstance(step, Rx)
        at = pos % len(step.data)  # before the last byte: bytes after the last line end stay buffered
        steps[i] = Rx(step.data[:at] + junk + step.data[at:])
        added += len(junk)
    return replace(trace, steps=tuple(steps)), added


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(TRACES),
       st.lists(st.tuples(st.integers(0, 50), st.integers(0, 10_000),
                          st.binary(min_size=1, max_size=12).map(lambda b: bytes(NOT_TEXT[x % len(NOT_TEXT)]
                                                                                 for x in b))),
                min_size=1, max_size=8),
       st.lists(st.integers(min_value=1, max_value=64), min_size=1, max_size=20))
def test_garbage_anywhere_is_skipped(trace: Trace, inserts: list[tuple[int, int, bytes]],
                                     sizes: list[int]) -> None:
    noisy, added = with_garbage(trace, inserts)
    events, p = run_trace(noisy, cut(sizes))
    assert events == list(trace.events), trace.device
    assert p.garbage_bytes == trace.garbage + added


def test_garbage_is_logged_with_what_was_dropped(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="modembridge.at.parser")
    p = AtParser()
    p.begin("AT+CSQ")
    evs = p.feed(b"\xff\xff\x00\r\n+CSQ: \x9a17,99\r\n\r\nOK\r\n")
    assert evs == [Info("+CSQ: 17,99"), Final(FinalKind.OK, "OK")]
    logs = garbage_logs(caplog)
    assert len(logs) == 2 and p.garbage_bytes == 4
    assert "\\xff\\xff\\x00" in logs[0].getMessage() and "3" in logs[0].getMessage()
    assert "\\x9a" in logs[1].getMessage()
    # before a prompt too
    caplog.clear()
    p.begin("AT+CMGS=18", prompt=True)
    assert p.feed(b"\r\n\x00\xfe> ") == [Prompt()]
    assert len(garbage_logs(caplog)) == 1 and p.garbage_bytes == 6


def test_endless_line_is_dropped_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="modembridge.at.parser")
    p = AtParser()
    p.begin("AT+CSQ")
    got = p.feed(b"\xff" * 5000 + b"\r\n+CSQ: 3,99\r\nOK\r\n")
    assert got == [Info("+CSQ: 3,99"), Final(FinalKind.OK, "OK")]
    assert garbage_logs(caplog) and p.garbage_bytes == 5000
