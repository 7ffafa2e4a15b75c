"""Sans-I/O AT response parser: bytes in, events out (in the manner of h11).

The parser knows which command is pending (``begin()``), because whether a line such as ``+CREG: 1`` or
``+CPIN: READY`` is the answer to a command or an unsolicited result code depends on it. It handles echo
(even after ATE0: a restarted modem echoes again), final results of every flavour (NO CARRIER, BUSY, NO
ANSWER, NO DIALTONE only for a call command: otherwise they report a call that ended), the ``> `` prompt
(which has no line ending), ``+CUSD`` answers whose quoted string holds raw line feeds, two-line URCs
(``+CMT``/``+CDS``/``+CBM`` header followed by a PDU line) that land in the middle of a response, vendor
noise, and garbage bytes (non-ASCII, NULs, other control bytes, which are dropped, counted in
``garbage_bytes`` and logged at debug level). Feeding the same bytes in any chunking yields the same events.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum


class UrcKind(Enum):
    MESSAGE = "message"  # +CMTI +CMT +CDSI +CDS +CBM +CBMI: the driver acts on these
    RESTART = "restart"  # the modem (re)booted: RDY, ^SYSSTART ... its settings are gone
    STATUS = "status"  # +CREG/+CGREG/+CEREG, ^RSSI, +CSQ-like: informative
    NOISE = "noise"  # vendor chatter (Call Ready, SMS Ready, PB DONE, ^BOOT, ^DSFLOWRPT ...) and stray lines


@dataclass(frozen=True)
class Echo:
    text: str


@dataclass(frozen=True)
class Info:
    """An information line belonging to the pending command's response."""

    text: str


class FinalKind(Enum):
    """Which final result code (V.250 §5.7, 27.007 §9.2, 27.005 §3.2.5, vendor words)."""

    OK = "OK"
    ERROR = "ERROR"
    CME = "+CME ERROR"
    CMS = "+CMS ERROR"
    NO_CARRIER = "NO CARRIER"
    BUSY = "BUSY"
    NO_ANSWER = "NO ANSWER"
    NO_DIALTONE = "NO DIALTONE"
    COMMAND_NOT_SUPPORT = "COMMAND NOT SUPPORT"  # Huawei
    TOO_MANY_PARAMETERS = "TOO MANY PARAMETERS"
    ABORTED = "ABORTED"


@dataclass(frozen=True)
class Final:
    """A final result code: its kind, the whole line, and the code or text of a +CME / +CMS ERROR."""

    kind: FinalKind
    text: str  # the whole line
    code: int | None = None  # for CME / CMS when numeric
    detail: str = ""  # for CME / CMS when verbose (CMEE=2) or vendor text

    @property
    def ok(self) -> bool:
        return self.kind is FinalKind.OK


@dataclass(frozen=True)
class Prompt:
    """The ``> `` prompt of AT+CMGS: write the PDU and Ctrl-Z now."""


@dataclass(frozen=True)
class Urc:
    """An unsolicited line. name is its prefix (``+CMTI``, ``RDY``, ``^RSSI``); pdu is the second line."""

    name: str
    text: str
    kind: UrcKind
    pdu: str | None = None

    @property
    def value(self) -> str:
        """The text after ``NAME:``, stripped."""
        _head, sep, rest = self.text.partition(":")
        return rest.strip() if sep else ""


Event = Echo | Info | Final | Prompt | Urc

_FINAL_WORDS = {k.value: k for k in FinalKind if k not in (FinalKind.CME, FinalKind.CMS)}
_CMX_RE = re.compile(r"^\+(CME|CMS) ERROR:\s*(.*)$", re.IGNORECASE)
# V.250 call results: final only for a dial/answer/online/hang-up command. Otherwise they report a call that
# ended or failed on its own (a caller hanging up before an answer gives RING ... NO CARRIER): a URC, which
# must not end (and fail) an AT+CMGS or AT+CMGL that happens to be pending.
_CALL_RESULTS = frozenset({FinalKind.NO_CARRIER, FinalKind.BUSY, FinalKind.NO_ANSWER,
                           FinalKind.NO_DIALTONE})
_CALL_CMD_RE = re.compile(r"^AT(D|A$|O|H|\+CGDATA|\+CHUP)")

# URCs whose next line is a PDU (27.005 §3.4.1).
TWO_LINE = frozenset({"+CMT", "+CDS", "+CBM"})
MESSAGE_URCS = frozenset({"+CMTI", "+CMT", "+CDSI", "+CDS", "+CBM", "+CBMI"})
STATUS_URCS = frozenset({"+CREG", "+CGREG", "+CEREG", "+CSQ", "^RSSI", "^HCSQ", "^MODE", "^SRVST",
                         "^SIMST", "+CIEV", "+CPIN", "+CFUN", "+QIND", "+QUSIM", "^SYSINFO", "+CUSD",
                         "+CLIP", "+CRING"})
DEFAULT_RESTART = ("RDY", "^SYSSTART", "START", "+PBREADY", "MODEM:STARTUP")  # the last: Neoway
# Lines without a "NAME:" prefix must be listed here: while a command is pending they would otherwise be taken
# for its answer (SIM7600 prints SMS DONE / PB DONE after the PIN, ZTE a bare +ZEND, during AT+CIMI/AT+CGSN).
DEFAULT_NOISE = ("RING", "Call Ready", "SMS Ready", "SMS DONE", "PB DONE", "NORMAL POWER DOWN",
                 "UNDER-VOLTAGE WARNNING", "+ZEND", "POWERED DOWN", "UNDER-VOLTAGE POWER DOWN",
                 "OVER-VOLTAGE POWER DOWN",
                 "OVER-VOLTAGE WARNNING", "+CPIN: NOT READY", "^BOOT", "^DSFLOWRPT", "^STIN", "^EARST",
                 "^CEND", "^ORIG", "^CONF", "^CONN", "^NWTIME", "*PSNWID", "*PSUTTZ", "+CTZV", "+CTZE",
                 "DST", "+QNITZ", "+STIN", "+CCWV")

_NAME_RE = re.compile(r"^([+^*$%#][A-Za-z0-9_]+)\s*:")
_CMD_NAME_RE = re.compile(r"^AT([+^*$%#][A-Za-z0-9_]+)", re.IGNORECASE)
_MAX_LINE = 4096
_MAX_CUSD_LINES = 40  # a USSD answer is at most 182 characters: more lines means its closing quote was lost

log = logging.getLogger(__name__)


def _is_text(b: int) -> bool:
    return 0x20 <= b < 0x7F or b == 0x09


_GARBAGE = bytes(b for b in range(256) if not _is_text(b))  # for bytes.translate: deleted in one C call
_DELIMITER = re.compile(rb"[\r\n\x1a\x1b>]")  # CR, LF; Ctrl-Z/ESC end an echoed PDU; '>' may be the prompt


def _clean(raw: bytes) -> str:
    """Drop garbage: bytes >= 0x7F, NUL and other control bytes (CR/LF are handled before)."""
    return raw.translate(None, _GARBAGE).decode("ascii").strip()


def _final(line: str) -> Final | None:
    word = _FINAL_WORDS.get(line.upper())
    if word is not None:
        return Final(word, line)
    m = _CMX_RE.match(line)
    if m:
        kind, rest = (FinalKind.CME if m.group(1).upper() == "CME" else FinalKind.CMS), m.group(2).strip()
        if rest.isdigit():
            return Final(kind, line, int(rest))
        return Final(kind, line, None, rest)
    return None


def line_name(line: str) -> str | None:
    """``+CMTI: "SM",3`` -> ``+CMTI``; None for lines without a ``NAME:`` prefix."""
    m = _NAME_RE.match(line)
    return m.group(1).upper() if m else None


def command_name(command: str) -> str | None:
    """``AT+CMGR=3`` -> ``+CMGR``; None for basic commands (ATE0, ATI, ATZ)."""
    m = _CMD_NAME_RE.match(command.strip())
    return m.group(1).upper() if m else None


class AtParser:
    """Feed bytes, get events. ``begin()`` names the pending command; its final result ends it."""

    def __init__(self, *, noise: Iterable[str] = DEFAULT_NOISE,
                 restart: Iterable[str] = DEFAULT_RESTART) -> None:
        self._buf = bytearray()
        self._noise = tuple(noise)
        self._restart = frozenset(r.upper() for r in restart)
        self._pending: str | None = None  # the command line as sent, normalised
        self._pending_name: str | None = None
        self._echoes: set[str] = set()
        self._expect_prompt = False
        self._urc_header: tuple[str, str] | None = None  # (name, header line) awaiting its PDU line
        self._cusd: list[str] | None = None  # a +CUSD whose quoted string is still open: its lines so far
        self.echo_seen = 0  # echo lines seen since reset_echo_count(): a restart turns echo back on
        self.garbage_bytes = 0  # bytes dropped as line noise (and logged) since the parser was made

    def set_patterns(self, *, noise: Iterable[str], restart: Iterable[str]) -> None:
        """Replace the noise and restart lines (from the vendor profile, once the modem is identified)."""
        self._noise = tuple(noise)
        self._restart = frozenset(r.upper() for r in restart)

    # --- state set by the channel -------------------------------------------------------------------------
    def begin(self, command: str, *, prompt: bool = False) -> None:
        """A command is about to be written; lines until its final result belong to it."""
        cmd = command.strip()
        self._pending = _norm(cmd)
        self._pending_name = command_name(cmd)
        self._echoes = {self._pending}
        self._expect_prompt = prompt

    def expect_echo(self, text: str) -> None:
        """The payload written after a prompt (a PDU) may be echoed back: recognise it as echo."""
        self._echoes.add(_norm(text))

    def end(self) -> None:
        """Forget the pending command (after its final result, a timeout or a cancel)."""
        self._pending = None
        self._pending_name = None
        self._echoes = set()
        self._expect_prompt = False

    @property
    def pending(self) -> str | None:
        return self._pending

    def reset(self) -> None:
        """Drop buffered bytes and state (after reopening the port)."""
        self._buf.clear()
        self._urc_header = None
        self._cusd = None
        self.end()

    # --- input ----------------------------------------------------------------------------------------------
    def feed(self, data: bytes) -> list[Event]:
        # A run of bytes up to the next delimiter is buffered in one piece: the same events and garbage
        # counts as a byte at a time (tests/at/test_parser.py holds the two side by side), in C.
        events: list[Event] = []
        pos, end = 0, len(data)
        while pos < end:
            m = _DELIMITER.search(data, pos)
            stop = end if m is None else m.start()
            if stop > pos:
                self._buffer(data[pos:stop])
            if m is None:
                break
            pos = stop + 1
            if data[stop] != 0x3E:  # CR, LF, Ctrl-Z, ESC: the line ends
                if self._buf:
                    self._line(self._take(), events)
            elif self._expect_prompt and not _clean(bytes(self._buf)):  # '>' at a line start
                self._take()  # only garbage (or blanks) before it
                self._expect_prompt = False
                events.append(Prompt())
            else:
                self._buffer(b">")
        return events

    def _buffer(self, chunk: bytes) -> None:
        """Add to the line; a flood of garbage without line endings is dropped each time the line grows
        past _MAX_LINE bytes."""
        self._buf += chunk
        while len(self._buf) > _MAX_LINE:
            dropped = self._buf[:_MAX_LINE + 1]
            del self._buf[:_MAX_LINE + 1]
            self.garbage_bytes += len(dropped)
            log.debug("garbage: dropped a %d-byte line without an end: %r...", len(dropped),
                      bytes(dropped[:32]))

    def _take(self) -> str:
        """The buffered line as text; garbage bytes in it are dropped, counted and logged."""
        raw = bytes(self._buf)
        self._buf.clear()
        text = raw.translate(None, _GARBAGE)
        dropped = len(raw) - len(text)
        if dropped:
            self.garbage_bytes += dropped
            log.debug("garbage: dropped %d byte(s) from %r", dropped, raw[:64])
        return text.decode("ascii").strip()

    def _line(self, line: str, out: list[Event]) -> None:
        if not line:
            return
        if self._urc_header is not None:
            hname, header = self._urc_header
            self._urc_header = None
            if _is_hex(line):
                out.append(Urc(hname, header, UrcKind.MESSAGE, line))
                return
            out.append(Urc(hname, header, UrcKind.MESSAGE, None))  # PDU lost; still announce the header
        if self._cusd is not None:  # inside a USSD answer's quoted string: a line of the menu
            if _final(line) is not None or self._known_urc(line):
                # the closing quote was lost: the answer ends here, and this line is what it is
                joined, self._cusd = "\n".join(self._cusd), None
                self._emit_cusd(joined, out)
            else:
                self._cusd.append(line)
                if '"' not in line and len(self._cusd) < _MAX_CUSD_LINES:
                    return
                joined, self._cusd = "\n".join(self._cusd), None
                self._emit_cusd(joined, out)
                return
        if line.upper().startswith("+CUSD") and line.count('"') % 2 == 1:
            self._cusd = [line]  # raw line feeds inside the string (27.007 leaves them to the vendor)
            return
        norm = _norm(line)
        stale_echo = self._pending is None and norm.startswith("AT") and _looks_like_command(norm)
        if norm in self._echoes or stale_echo:
            self.echo_seen += 1
            out.append(Echo(line))
            return
        fin = _final(line)
        if fin is not None and fin.kind in _CALL_RESULTS and not (
                self._pending is not None and _CALL_CMD_RE.match(self._pending)):
            out.append(Urc(fin.kind.value, line, UrcKind.NOISE))
            return
        if fin is not None:
            self.end()
            out.append(fin)
            return
        name = line_name(line)
        if name is not None and self._pending_name is not None and name == self._pending_name:
            out.append(Info(line))
            return
        if name in TWO_LINE:
            self._urc_header = (name, line)
            return
        urc = self._classify(line, name)
        if urc is not None:
            out.append(urc)
            return
        if self._pending is not None and (name is None or self._pending_name is None):
            out.append(Info(line))
        else:  # idle, or "+OTHER:" while "+NAME" is pending (e.g. the late answer of a timed-out command)
            out.append(Urc(name or line, line, UrcKind.NOISE))

    def _known_urc(self, line: str) -> bool:
        """A line that is an unsolicited result code we know, never a line of a USSD menu."""
        name = line_name(line)
        return (name is not None and (name in MESSAGE_URCS or name in STATUS_URCS or name in TWO_LINE)) \
            or line.upper() in self._restart or line in self._noise

    def _emit_cusd(self, line: str, out: list[Event]) -> None:
        """A whole +CUSD (its lines joined with LF): the pending AT+CUSD's answer, or unsolicited."""
        if self._pending_name == "+CUSD":
            out.append(Info(line))
        else:
            out.append(Urc("+CUSD", line, UrcKind.STATUS))

    def _classify(self, line: str, name: str | None) -> Urc | None:
        key: str = name or line
        if line.upper() in self._restart or (name is not None and name in self._restart):
            return Urc(key, line, UrcKind.RESTART)
        if name in MESSAGE_URCS:
            return Urc(name, line, UrcKind.MESSAGE)
        for n in self._noise:
            if line == n or line.startswith(n + ":") or line.startswith(n + " ") or line.upper() == n.upper():
                return Urc(n, line, UrcKind.NOISE)
        if name is not None and (name in STATUS_URCS or name.startswith("^")):
            return Urc(name, line, UrcKind.STATUS)
        return None


def _norm(s: str) -> str:
    return "".join(s.split()).upper()


def _looks_like_command(norm: str) -> bool:
    return len(norm) == 2 or norm[2] in "+^*$%#&EIZVQXSDHA0123456789"


_HEX = re.compile(r"(?:[0-9A-Fa-f]{2})*")


def _is_hex(s: str) -> bool:
    return _HEX.fullmatch(s) is not None
