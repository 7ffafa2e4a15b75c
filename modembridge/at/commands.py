"""Typed builders and pure parsers for the AT commands the driver uses (27.005 SMS, 27.007 general).

Parsers take the information lines of one response (``Info`` texts, in order) and are tolerant of the
variations real modems show: missing alpha fields, missing quotes, extra fields, prefixes or none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from modembridge.at.errors import ParseError as ParseError  # re-exported: what the parsers below raise


@dataclass(frozen=True)
class StoredPdu:
    """A message or status report in modem storage. stat: 0 unread, 1 read, 2 unsent, 3 sent (27.005)."""

    mem: str
    index: int
    stat: int
    pdu: str
    length: int  # TPDU length in octets as reported (the SMSC prefix is not counted)


@dataclass(frozen=True)
class Registration:
    stat: int
    lac: str | None = None
    ci: str | None = None
    act: int | None = None

    @property
    def name(self) -> str:
        return REG_NAMES.get(self.stat, "unknown")

    @property
    def registered(self) -> bool:
        return self.name in ("home", "roaming")


# 27.007 §7.2 <stat>; 6-10 are the LTE "SMS only" / "CSFB not preferred" variants.
REG_NAMES: dict[int, str] = {
    0: "not registered", 1: "home", 2: "searching", 3: "denied", 4: "unknown", 5: "roaming",
    6: "home", 7: "roaming", 8: "not registered", 9: "home", 10: "roaming",
}


# --- helpers ------------------------------------------------------------------------------------------------
def split_fields(text: str) -> list[str]:
    """``1,"SM",,23`` -> ['1', 'SM', '', '23']; quotes removed; commas inside quotes or parentheses kept."""
    out: list[str] = []
    cur: list[str] = []
    quoted = False
    depth = 0
    for ch in text:
        if ch == '"':
            quoted = not quoted
            continue
        if not quoted:
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth = max(0, depth - 1)
            elif ch == "," and depth == 0:
                out.append("".join(cur).strip())
                cur = []
                continue
        cur.append(ch)
    out.append("".join(cur).strip())
    return out


def value_of(line: str, prefix: str) -> str | None:
    """The text after ``PREFIX:`` (case-insensitive), or None when the line has another prefix."""
    if line.upper().startswith(prefix.upper()):
        rest = line[len(prefix):]
        return rest[1:].strip() if rest.startswith(":") else rest.strip()
    return None


def first_value(lines: list[str], prefix: str) -> str:
    for line in lines:
        v = value_of(line, prefix)
        if v is not None:
            return v
    raise ParseError(f"no {prefix} line in {lines!r}")


def quote(s: str) -> str:
    """A V.250 string constant: quotes and backslashes escaped as \\22 and \\5C."""
    return '"' + s.replace("\\", "\\5C").replace('"', "\\22") + '"'


def _int(s: str, what: str) -> int:
    try:
        return int(s.strip())
    except ValueError:
        raise ParseError(f"{what}: not a number: {s!r}") from None


# --- builders -----------------------------------------------------------------------------------------------
def cmgr(index: int) -> str:
    return f"AT+CMGR={index}"


def cmgl(stat: int = 4) -> str:
    return f"AT+CMGL={stat}"


def cmgd(index: int) -> str:
    return f"AT+CMGD={index}"


def cmgs(tpdu_length: int) -> str:
    if not 1 <= tpdu_length <= 255:
        raise ValueError(f"TPDU length out of range: {tpdu_length}")
    return f"AT+CMGS={tpdu_length}"


def cusd(string: str, dcs: int) -> str:
    """``AT+CUSD=1,"<string>",<dcs>``: send a USSD string (a code, or a menu answer), result codes on."""
    if '"' in string or "\r" in string or "\n" in string:
        raise ValueError("a USSD string may not contain quotes or line breaks")
    return f'AT+CUSD=1,"{string}",{dcs}'


CUSD_CANCEL = "AT+CUSD=2"  # end the USSD session in progress


@dataclass(frozen=True)
class UssdResult:
    """A ``+CUSD: <m>[,<str>[,<dcs>]]`` line (27.007 7.15)."""

    m: int  # 0 no further action, 1 further action required, 2 ended by the network, 3 answered by another
    #         client, 4 not supported, 5 network timeout
    string: str | None
    dcs: int | None


def parse_cusd(line: str) -> UssdResult:
    """One +CUSD line (its string may hold line breaks: modems send a menu's lines raw inside the quotes)."""
    _head, sep, rest = line.partition(":")
    if not sep:
        raise ParseError(f"not a +CUSD line: {line!r}")
    rest = rest.strip()
    m_text, _comma, tail = rest.partition(",")
    m = _int(m_text.strip(), "+CUSD m")
    string = dcs = None
    if tail:
        tail = tail.strip()
        if tail.startswith('"'):
            end = tail.rfind('"')
            if end <= 0:
                raise ParseError(f"+CUSD string not closed: {line!r}")
            string, after = tail[1:end], tail[end + 1:]
        else:
            string, _c, after = tail.partition(",")
            after = "," + after if _c else ""
        after = after.strip().lstrip(",").strip()
        if after:
            dcs = _int(after.split(",")[0].strip(), "+CUSD dcs")
    return UssdResult(m, string, dcs)


def cpms(mem1: str, mem2: str | None = None, mem3: str | None = None) -> str:
    mems = [m for m in (mem1, mem2, mem3) if m is not None]
    return "AT+CPMS=" + ",".join(quote(m) for m in mems)


def cnmi(setting: tuple[int, ...]) -> str:
    return "AT+CNMI=" + ",".join(str(v) for v in setting)


def csca(number: str) -> str:
    kind = 145 if number.startswith("+") else 129
    return f"AT+CSCA={quote(number)},{kind}"


def cpin(pin: str) -> str:
    if not re.fullmatch(r"[0-9]{4,8}", pin):
        raise ValueError("a PIN is 4 to 8 digits")
    return f"AT+CPIN={quote(pin)}"


# --- parsers ------------------------------------------------------------------------------------------------
def parse_cmgl(lines: list[str], mem: str) -> list[StoredPdu]:
    """``+CMGL: <index>,<stat>,[<alpha>],<length>`` each followed by a PDU line (alpha missing on some)."""
    out: list[StoredPdu] = []
    header: list[str] | None = None
    for line in lines:
        v = value_of(line, "+CMGL")
        if v is not None:
            header = split_fields(v)
            continue
        if header is None:
            continue  # stray line
        pdu = line.strip()
        if len(header) < 2:
            raise ParseError(f"+CMGL header too short: {header!r}")
        length = _int(header[-1], "+CMGL length") if len(header) >= 3 else len(pdu) // 2
        out.append(StoredPdu(mem, _int(header[0], "+CMGL index"), _int(header[1], "+CMGL stat"), pdu, length))
        header = None
    return out


def parse_cmgr(lines: list[str], mem: str, index: int) -> StoredPdu | None:
    """``+CMGR: <stat>,[<alpha>],<length>`` then the PDU; None when the slot is empty."""
    header: list[str] | None = None
    for line in lines:
        v = value_of(line, "+CMGR")
        if v is not None:
            header = split_fields(v)
            continue
        if header is not None and line.strip():
            pdu = line.strip()
            length = _int(header[-1], "+CMGR length") if len(header) >= 2 else len(pdu) // 2
            if length == 0:
                return None
            return StoredPdu(mem, index, _int(header[0], "+CMGR stat"), pdu, length)
    return None


def parse_cmgs(lines: list[str]) -> int:
    """``+CMGS: <mr>[,<ackpdu>]`` -> message reference."""
    return _int(split_fields(first_value(lines, "+CMGS"))[0], "+CMGS mr")


def parse_cnum(lines: list[str]) -> str | None:
    """``+CNUM: "<alpha>","<number>",<type>`` -> the first number; None when the SIM holds none."""
    for line in lines:
        if line.upper().startswith("+CNUM"):
            fields = split_fields(line.partition(":")[2].strip())
            if len(fields) >= 2 and fields[1].strip():
                return fields[1].strip()
    return None


def parse_csq(lines: list[str]) -> tuple[int, int]:
    """``+CSQ: <rssi>,<ber>`` -> (rssi, ber)."""
    f = split_fields(first_value(lines, "+CSQ"))
    return _int(f[0], "+CSQ rssi"), (_int(f[1], "+CSQ ber") if len(f) > 1 and f[1] else 99)


def csq_to_dbm(rssi: int) -> int | None:
    """27.007 §8.5: 0 -> -113 dBm, 2..30 -> -109..-53, 31 -> -51 or better, 99 unknown; 100..191 TD-SCDMA."""
    if 0 <= rssi <= 31:
        return -113 + 2 * rssi
    if 100 <= rssi <= 191:
        return rssi - 216
    return None


def parse_creg(lines: list[str], *, prefix: str = "+CREG", unsolicited: bool = False) -> Registration:
    """Read form ``+CREG: <n>,<stat>[,<lac>,<ci>[,<AcT>]]``, URC form ``+CREG: <stat>[,<lac>,<ci>[,<AcT>]]``.

    The form is told from the fields, not from ``unsolicited``: a URC arriving while AT+CREG? is pending
    comes as an information line, and some phones put <n> in the URC. The second field is a <stat> only
    when it is a bare small number; a <lac> is quoted or four hex digits. A non-numeric <AcT> is dropped.
    """
    raw = first_value(lines, prefix)
    f = split_fields(raw)
    second = raw.split(",")[1].strip() if len(f) > 1 else ""
    stat_i = 1 if re.fullmatch(r"[0-9]{1,3}", second) and int(second) <= 11 else 0
    stat = _int(f[stat_i], f"{prefix} stat")
    lac = (f[stat_i + 1] or None) if len(f) > stat_i + 1 else None
    ci = (f[stat_i + 2] or None) if len(f) > stat_i + 2 else None
    act = int(f[stat_i + 3]) if len(f) > stat_i + 3 and f[stat_i + 3].isdigit() else None
    return Registration(stat, lac, ci, act)


def parse_cops(lines: list[str]) -> str | None:
    """``+COPS: <mode>[,<format>,<oper>[,<AcT>]]`` -> operator name, None when not registered."""
    f = split_fields(first_value(lines, "+COPS"))
    if len(f) >= 3 and f[2]:
        return f[2]
    return None


def _mem(name: str) -> str:
    """A memory name as AT+CPMS= takes it: SIMCom reports the preferred one as ``SM_P`` / ``ME_P``."""
    up = name.upper()
    return up[:-2] if up.endswith("_P") else up


def parse_cpms_read(lines: list[str]) -> list[tuple[str, int, int]]:
    """``+CPMS: "SM",3,30,"SM",3,30,"SR",0,10`` -> [(mem, used, total)] for mem1..mem3 (or fewer)."""
    f = split_fields(first_value(lines, "+CPMS"))
    out: list[tuple[str, int, int]] = []
    i = 0
    while i + 3 <= len(f):
        mem, used, total = f[i], f[i + 1], f[i + 2]
        if not mem or mem[0].isdigit():
            raise ParseError(f"+CPMS: memory name expected, got {mem!r}")
        out.append((_mem(mem), _int(used, "+CPMS used"), _int(total, "+CPMS total")))
        i += 3
    if not out:
        raise ParseError(f"+CPMS: nothing parsed from {f!r}")
    return out


def parse_cpms_set(lines: list[str], mems: list[str]) -> list[tuple[str, int, int]]:
    """The answer to ``AT+CPMS=...``: ``+CPMS: 3,30,3,30,3,30`` (used,total per memory set, in order)."""
    f = split_fields(first_value(lines, "+CPMS"))
    if f and f[0] and not f[0][0].isdigit():  # some modems answer in the read form
        return parse_cpms_read(lines)
    out: list[tuple[str, int, int]] = []
    for k, mem in enumerate(mems):
        if 2 * k + 1 < len(f):
            out.append((mem.upper(), _int(f[2 * k], "+CPMS used"), _int(f[2 * k + 1], "+CPMS total")))
    return out


def _list(field: str) -> list[str]:
    inner = field.strip()
    if inner.startswith("(") and inner.endswith(")"):
        inner = inner[1:-1]
    return [m.strip().strip('"').upper() for m in inner.split(",") if m.strip().strip('"')]


def _closing(v: str, start: int) -> int:
    """The index of the parenthesis closing the one at ``start`` (-1 when unbalanced)."""
    depth = 0
    for i in range(start, len(v)):
        if v[i] == "(":
            depth += 1
        elif v[i] == ")":
            depth -= 1
            if depth == 0:
                return i
    return -1


def parse_cpms_test(lines: list[str]) -> list[list[str]]:
    """``+CPMS: ("SM","ME","SR"),("SM","ME"),("SM")`` -> memories allowed for mem1, mem2, mem3.

    Empty groups keep their place (``(),,()``); Wavecom wraps all groups in one more pair of parentheses.
    """
    v = first_value(lines, "+CPMS").strip()
    if not v:
        return []
    if v.startswith("(") and _closing(v, 0) == len(v) - 1 and "(" in v[1:-1]:
        v = v[1:-1]  # ((...),(...)) -> (...),(...)
    # keep the quoted names: split on top-level commas of the raw text
    groups: list[str] = []
    depth = 0
    cur: list[str] = []
    for ch in v:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            groups.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    groups.append("".join(cur))
    return [_list(g) for g in groups]


def parse_int_ranges(field: str) -> set[int]:
    """``(0-2)`` / ``(0,1,2)`` / ``(0-1,3)`` / ``0`` -> {0,1,2}."""
    out: set[int] = set()
    inner = field.strip().strip("()")
    for part in inner.split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            lo, hi = part.split("-", 1)
            out.update(range(_int(lo, "range"), _int(hi, "range") + 1))
        else:
            out.add(_int(part, "range"))
    return out


def parse_cnmi_test(lines: list[str]) -> list[set[int]]:
    """``+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)`` -> supported values for mode, mt, bm, ds, bfr."""
    return [parse_int_ranges(g) for g in split_fields(first_value(lines, "+CNMI"))]


def cnmi_supported(ranges: list[set[int]], setting: tuple[int, ...]) -> bool:
    """Whether AT+CNMI=? allows the setting (unknown positions are assumed allowed)."""
    return all(i >= len(ranges) or not ranges[i] or v in ranges[i] for i, v in enumerate(setting))


def cnmi_candidates(ranges: list[set[int]],
                    preferences: tuple[tuple[int, ...], ...]) -> list[tuple[int, ...]]:
    """The preferred CNMI settings the modem allows, plus one adapted to its ranges when none fits.

    The adapted one keeps what matters (mt=1: store and announce with +CMTI) and picks the closest
    supported mode (2, 1, 3, 0), bm (0), ds (2 stored, 1 direct, 0 none) and bfr (0 flush, 1 clear).
    """
    out = [p for p in preferences if not ranges or cnmi_supported(ranges, p)]
    if out or len(ranges) < 2 or 1 not in ranges[1]:
        return out or list(preferences)

    def pick(i: int, order: tuple[int, ...]) -> int | None:
        if i >= len(ranges) or not ranges[i]:
            return order[0]
        return next((v for v in order if v in ranges[i]), min(ranges[i]))

    adapted = [pick(0, (2, 1, 3, 0)), 1, pick(2, (0, 2)), pick(3, (2, 1, 0)), pick(4, (0, 1))]
    return [tuple(v for v in adapted[: max(2, len(ranges))] if v is not None)]


def parse_cnmi_read(lines: list[str]) -> tuple[int, ...]:
    return tuple(_int(x, "+CNMI") for x in split_fields(first_value(lines, "+CNMI")) if x)


def parse_cpin(lines: list[str]) -> str:
    """``+CPIN: READY`` / ``+CPIN: SIM PIN`` (some modems omit the prefix) -> 'READY', 'SIM PIN', ..."""
    for line in lines:
        v = value_of(line, "+CPIN")
        if v is not None:
            return v.strip().strip('"').upper()
    for line in lines:
        if line.strip():
            return line.strip().upper()
    raise ParseError("empty +CPIN answer")


def parse_csca(lines: list[str]) -> str | None:
    """``+CSCA: "+447785016005",145`` -> number (None when empty)."""
    f = split_fields(first_value(lines, "+CSCA"))
    return f[0] or None


def parse_csms(lines: list[str]) -> int:
    """``+CSMS: <service>,<mt>,<mo>,<bm>`` -> service (1: +CMT/+CDS need a +CNMA acknowledgement)."""
    return _int(split_fields(first_value(lines, "+CSMS"))[0], "+CSMS service")


_ID_PREFIXES = ("+CGMI:", "+CGMM:", "+CGMR:", "+CGSN:", "+CIMI:", "+CCID:", "^ICCID:", "+QCCID:", "+ICCID:",
                "+GMI:", "+GMM:", "+GMR:", "+GSN:", "MANUFACTURER:", "MODEL:", "REVISION:", "IMEI:")


def parse_identity(lines: list[str]) -> str:
    """The first information line of CGMI/CGMM/CGMR/CGSN/CIMI/CCID, without a ``+CGMI:``-style prefix."""
    for line in lines:
        text = line.strip()
        if not text:
            continue
        up = text.upper()
        for p in _ID_PREFIXES:
            if up.startswith(p):
                text = text[len(p):].strip()
                break
        return text.strip('"')
    raise ParseError("empty identity answer")


def parse_iccid(lines: list[str]) -> str:
    """ICCID digits (trailing F padding removed); a +CRSM read of EF_ICCID is nibble-swapped."""
    for line in lines:
        up = line.strip().upper()
        if up.startswith("+CRSM:"):
            f = split_fields(up[6:])
            if len(f) >= 3 and f[0] == "144":
                raw = f[2]
                swapped = "".join(raw[i + 1] + raw[i] for i in range(0, len(raw) - 1, 2))
                return swapped.rstrip("F")
            raise ParseError(f"+CRSM failed: {line!r}")
    text = parse_identity(lines).rpartition(":")[2]  # an unknown prefix (Telit "#CCID:"): its letters are hex
    digits = re.sub(r"[^0-9A-Fa-f]", "", text).upper()
    if not digits:
        raise ParseError(f"no ICCID in {lines!r}")
    if digits.startswith("98"):  # every ICCID starts with 89 (telecom): this one is nibble-swapped
        digits = "".join(digits[i + 1] + digits[i] for i in range(0, len(digits) - 1, 2))
    return digits.rstrip("F")


def parse_pin_retries(lines: list[str]) -> int:
    """Attempts left for the SIM PIN, from any of the vendor counters:

    - 27.007 ``+CPINR: SIM PIN,<retries>,<default>`` (``AT+CPINR="SIM PIN"``)
    - Huawei ``^CPIN: <code>,<times>,<puk_times>,<pin_times>,<puk2_times>,<pin2_times>`` (``AT^CPIN?``)
    - Quectel ``+QPINC: "SC",<pin_times>,<puk_times>`` (``AT+QPINC="SC"``; ``AT+QPINC?`` adds a "P2" line)
    - SIMCom ``+SPIC: <pin1>,...`` (``AT+SPIC``): the SIM800 manual documents ``<pin1>,<pin2>,<puk1>,<puk2>``,
      oFono reads PIN, PUK, PIN2, PUK2; both put PIN1 first, which is all that is read here
    - Quectel M95 and older ``+QTRPIN: <pin1>,<pin2>,<puk1>,<puk2>`` (``AT+QTRPIN``)
    - u-blox ``+UPINCNT: <pin1>,<pin2>,<puk1>,<puk2>`` (``AT+UPINCNT``)
    """
    for line in lines:
        for prefix, field in (("+CPINR", None), ("^CPIN", 3), ("+QPINC", 1), ("+SPIC", 0), ("+QTRPIN", 0),
                              ("+UPINCNT", 0)):
            v = value_of(line, prefix)
            if v is None:
                continue
            f = split_fields(v)
            if field is None:  # +CPINR lists one line per code: take SIM PIN's
                if f and f[0].upper() == "SIM PIN" and len(f) >= 2:
                    return _int(f[1], "+CPINR retries")
                continue
            if prefix == "+QPINC" and f and f[0].upper() != "SC":
                continue
            if len(f) > field:
                return _int(f[field], f"{prefix} PIN retries")
    raise ParseError(f"no PIN retry counter in {lines!r}")
