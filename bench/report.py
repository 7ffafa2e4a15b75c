"""The markdown table: one row per figure, modembridge and the peers side by side, against the targets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Getter = Callable[[dict[str, Any]], Any]
PEERS = (("modembridge", "modembridge"), ("kannel", "Kannel 1.4.5 (AT2 + smsbox)"),
         ("gsmmodem", "python-gsmmodem-new wrapper"), ("gammu", "gammu-smsd (files)"),
         ("floor", "floor (reference, not a product)"))


def dig(d: Any, *path: Any) -> Any:
    for p in path:
        if isinstance(d, dict):
            d = d.get(p)
        elif isinstance(d, list) and isinstance(p, int) and -len(d) <= p < len(d):
            d = d[p]
        else:
            return None
    return d


def fmt(v: Any, unit: str = "", digits: int = 1) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, str):
        return v
    if unit == "%":
        return f"{v * 100:.{digits}f} %"
    return f"{v:,.{digits}f}{(' ' + unit) if unit else ''}"


def mb(kb: Any) -> Any:
    return kb / 1024 if isinstance(kb, (int, float)) else None


def median(values: Any) -> Any:
    if not values:
        return None
    s = sorted(values)
    return s[len(s) // 2]


def pair(a: Any, b: Any, unit: str) -> str | None:
    return f"{a:.2f} / {b:.2f} {unit}" if a is not None and b is not None else None


def queued_line(acc: dict[str, Any]) -> str | None:
    if not acc.get("memory_queued_kb"):
        return None
    return f"{rss_line(acc, 'memory_queued_kb')} ({acc.get('queued', 0):,} queued)"


def rss_line(r: dict[str, Any], key: str) -> str | None:
    m = r.get(key) or {}
    if not m:
        return None
    anon = f" (anon {mb(m['RssAnon']):.1f})" if m.get("RssAnon") else ""
    return f"{mb(m.get('VmRSS')):.1f} / {mb(m.get('VmHWM')):.1f} MB{anon}"


def journal_floor(r: dict[str, Any]) -> str | None:
    """The floor bridge with --journal: +CMTI and +CMT, median / p95 each."""
    cmti = pair(dig(r, "inbound_journal", "from_urc_1", "median"),
                dig(r, "inbound_journal", "from_urc_1", "p95"), "ms")
    cmt = pair(dig(r, "inbound_direct_journal", "from_urc_1", "median"),
               dig(r, "inbound_direct_journal", "from_urc_1", "p95"), "ms")
    return f"{cmti} (+CMTI); {cmt} (+CMT)" if cmti and cmt else None


# (label, target text, test of the modembridge value or None, getter, unit, digits, per-peer note)
Row = tuple[str, str, Callable[[Any], bool] | None, Getter, str, int, dict[str, str]]

NO_ACCEPT = "n/a: no queue (a request blocks until +CMGS)"
ROWS: list[Row] = [
    ("Inbound 1-part, URC -> router, median (default indication)", "<= 1.0 ms", lambda v: v <= 1.0,
     lambda r: dig(r, "inbound", "from_urc_1", "median"), "ms", 2, {}),
    ("Inbound 1-part, URC -> router, p95 (default indication)", "<= 2.0 ms", lambda v: v <= 2.0,
     lambda r: dig(r, "inbound", "from_urc_1", "p95"), "ms", 2, {}),
    ("Inbound 1-part, URC -> router, p99", "", None,
     lambda r: dig(r, "inbound", "from_urc_1", "p99"), "ms", 2, {}),
    ("Inbound 3-part, last URC -> router, median", "", None,
     lambda r: dig(r, "inbound", "from_urc_3", "median"), "ms", 2,
     {"gsmmodem": " (3 requests, one per part)"}),
    ("Inbound 3-part, last URC -> router, p95 / p99", "", None,
     lambda r: pair(dig(r, "inbound", "from_urc_3", "p95"), dig(r, "inbound", "from_urc_3", "p99"), "ms"),
     "", 2, {}),
    ("Inbound 1-part phases, median: URC -> AT+CMGR / +CMGR answer -> router", "", None,
     lambda r: pair(dig(r, "inbound", "phases_1", "urc_to_cmgr", "median"),
                    dig(r, "inbound", "phases_1", "cmgr_to_router", "median"), "ms"), "", 2,
     {"gammu": "n/a: reads with CMGL", "kannel": "n/a: +CMT (no read)"}),
    ("Inbound 1-part, +CMT -> router, median / p95, with indication = \"direct\"", "", None,
     lambda r: pair(dig(r, "inbound_direct", "from_urc_1", "median"),
                    dig(r, "inbound_direct", "from_urc_1", "p95"), "ms"), "", 2,
     {"kannel": "n/a: see the first rows (+CMT, no +CNMA)", "gsmmodem": "n/a: +CMTI only", "gammu": "n/a"}),
    ("Inbound 3-part, last +CMT -> router, median / p95, with indication = \"direct\"", "", None,
     lambda r: pair(dig(r, "inbound_direct", "from_urc_3", "median"),
                    dig(r, "inbound_direct", "from_urc_3", "p95"), "ms"), "", 2,
     {"kannel": "n/a", "gsmmodem": "n/a: +CMTI only", "gammu": "n/a"}),
    ("Floor of a bridge that loses nothing: one fsync'd SQLite commit per message before the router, "
     "1-part median / p95, +CMTI / +CMT", "", None, journal_floor, "", 2,
     {"modembridge": "see the rows above", "kannel": "n/a: no fsync per message",
      "gsmmodem": "n/a: no journal", "gammu": "n/a: files, no fsync"}),
    ("Inbound 1-part median / p95 with [store] synchronous = NORMAL", "", None,
     lambda r: pair(dig(r, "inbound_normal", "from_urc_1", "median"),
                    dig(r, "inbound_normal", "from_urc_1", "p95"), "ms"), "", 2,
     {"gsmmodem": "n/a: no journal", "gammu": "n/a: files, no fsync"}),
    ("Inbound messages stranded (URC missed; found by a later sweep)", "0", lambda v: v == 0,
     lambda r: (len(dig(r, "inbound", "stranded")) if dig(r, "inbound", "stranded") is not None else None),
     "", 0, {}),
    ("Inbound 1-part, inject -> router, median", "", None,
     lambda r: dig(r, "inbound", "from_inject_1", "median"), "ms", 2, {}),
    ("Sendsms accepted /s while the modem sends: 200 GETs, 8 keep-alive clients (median of rounds)",
     ">= 2,500/s", lambda v: v >= 2500, lambda r: dig(r, "accept_sending", "ok_per_s"), "/s", 0,
     {"gsmmodem": " (its /send blocks until +CMGS)", "gammu": " (gammu-smsd-inject, 8 at a time)"}),
    ("CPU per sent message: utime + stime over that run / messages", "<= 1.0 ms", lambda v: v <= 1.0,
     lambda r: dig(r, "accept_sending", "cpu_ms_per_msg"), "ms", 2,
     {"kannel": " (accept + send, decomposed: ~1 send/2.3 s)", "gammu": " (accept + send, decomposed)"}),
    ("The same two figures without an fsync per COMMIT ([store] synchronous = NORMAL in the floor gateway): "
     "accepted /s, CPU per sent message", "", None,
     lambda r: (f"{dig(r, 'accept_sending_normal', 'ok_per_s'):,.0f} /s, "
                f"{dig(r, 'accept_sending_normal', 'cpu_ms_per_msg'):.2f} ms"
                if dig(r, "accept_sending_normal", "cpu_ms_per_msg") is not None else None), "", 0,
     {"modembridge": "see floor", "kannel": "n/a: see the rows above (no fsync per message)",
      "gsmmodem": "n/a: no journal", "gammu": "n/a: files, no fsync"}),
    ("RSS after that load (VmRSS)", "<= 38 MB", lambda v: v <= 38,
     lambda r: mb(dig(r, "memory_after_load_kb", "VmRSS")), "MB", 1, {"kannel": " (2 processes)"}),
    ("RSS of the stack alone: aiohttp server + client, sqlite3, pyserial (bench/peers/memory_floor.py)", "",
     None, lambda r: mb(dig(r, "stack_memory_kb", "VmRSS")), "MB", 1,
     {"modembridge": "see floor", "kannel": "n/a", "gsmmodem": "n/a", "gammu": "n/a"}),
    ("RSS of the stack + modembridge's run-path modules imported, nothing of them running "
     "(memory_floor.py --with-code)", "", None,
     lambda r: mb(dig(r, "stack_code_memory_kb", "VmRSS")), "MB", 1,
     {"modembridge": "see floor", "kannel": "n/a", "gsmmodem": "n/a", "gammu": "n/a"}),
    ("Sends accepted durably /s, GET /cgi-bin/sendsms, modem not sending (wrk -c16)", "", None,
     lambda r: dig(r, "accept", "sendsms", "ok_per_s"), "/s", 0,
     {"gsmmodem": NO_ACCEPT, "gammu": "see next row", "kannel": "n/a"}),
    ("Sends accepted /s, native API (mb) / gammu-smsd-inject (gammu)", "", None,
     lambda r: dig(r, "accept", "native", "ok_per_s") or dig(r, "accept", "ok_per_s"), "/s", 0,
     {"gsmmodem": NO_ACCEPT}),
    ("End-to-end sends/s, --send-delay 0", "", None,
     lambda r: dig(r, "outbound_e2e", "drain_per_s"), "/s", 1, {}),
    ("115200 baud, short 1-part messages: achieved / wire limit (11520 B/s / (out + in) per AT+CMGS)",
     ">= 95 %", lambda v: v >= 0.95,
     lambda r: dig(r, "line", "fraction"), "%", 1, {"gammu": "n/a: ~1 send/s (its main loop)"}),
    ("115200 baud: sends/s (limit)", "", None,
     lambda r: (f"{dig(r, 'line', 'drain_per_s'):.1f} ({dig(r, 'line', 'limit_per_s'):.1f})"
                if dig(r, "line", "drain_per_s") else None), "", 1, {}),
    ("115200 baud: line idle between sends (+CMGS answer -> next AT+CMGS), median", "", None,
     lambda r: dig(r, "line", "host_gap", "median"), "ms", 2, {"gammu": "n/a"}),
    ("CPU per sent message, native API, 16 clients, then the drain", "", None,
     lambda r: dig(r, "outbound_e2e", "cpu_ms_per_msg"), "ms", 2, {}),
    ("CPU per accepted send (API only)", "", None,
     lambda r: dig(r, "accept", "cpu_ms_per_accept"), "ms", 3, {}),
    ("CPU per received message", "", None,
     lambda r: dig(r, "inbound", "cpu_ms_per_msg"), "ms", 2, {}),
    ("RSS / HWM idle (anon = own heap, without shared libraries)", "", None,
     lambda r: rss_line(r, "memory_idle_kb"), "", 1, {}),
    ("RSS / HWM after load, detail", "", None, lambda r: rss_line(r, "memory_after_load_kb"), "", 1, {}),
    ("RSS / HWM with >= 10,000 sends queued", "", None,
     lambda r: queued_line(r.get("accept") or {}), "", 1,
     {"gsmmodem": "n/a: no queue", "gammu": "n/a: queue is files"}),
    ("Start-up: spawn -> ready", "<= 1 s", lambda v: v <= 1.0,
     lambda r: median(r.get("ready_s")), "s", 2, {"gammu": "n/a: no readiness signal"}),
    ("AT commands per received message", "", None,
     lambda r: dig(r, "inbound", "at_per_msg"), "", 2, {}),
    ("AT commands per sent message", "", None,
     lambda r: dig(r, "outbound_e2e", "at_per_msg"), "", 2, {}),
]


# The five figures of issue 18: (label, getter, lower is better, unit, digits, target test)
HEADLINE: list[tuple[str, Getter, bool, str, int, Callable[[float], bool]]] = [
    ("inbound 1-part URC -> router, median (each bridge's default indication)",
     lambda r: dig(r, "inbound", "from_urc_1", "median"), True, "ms", 2, lambda v: v <= 1.0),
    ("inbound 1-part URC -> router, p95 (same)", lambda r: dig(r, "inbound", "from_urc_1", "p95"), True,
     "ms", 2, lambda v: v <= 2.0),
    ("inbound 1-part +CMT -> router, median (modembridge: indication = \"direct\")",
     lambda r: dig(r, "inbound_direct", "from_urc_1", "median") or dig(r, "inbound", "from_urc_1", "median"),
     True, "ms", 2, lambda v: v <= 1.0),
    ("inbound 1-part +CMT -> router, p95 (same)",
     lambda r: dig(r, "inbound_direct", "from_urc_1", "p95") or dig(r, "inbound", "from_urc_1", "p95"),
     True, "ms", 2, lambda v: v <= 2.0),
    ("sendsms accepted /s while sending", lambda r: dig(r, "accept_sending", "ok_per_s"), False, "/s", 0,
     lambda v: v >= 2500),
    ("CPU per sent message", lambda r: dig(r, "accept_sending", "cpu_ms_per_msg"), True, "ms", 2,
     lambda v: v <= 1.0),
    ("RSS after that load", lambda r: mb(dig(r, "memory_after_load_kb", "VmRSS")), True, "MB", 1,
     lambda v: v <= 38),
    ("115200 baud: share of the wire limit", lambda r: dig(r, "line", "fraction"), False, "%", 1,
     lambda v: v >= 0.95),
]


def ratio(mine: Any, theirs: Any, lower_better: bool) -> str:
    """How modembridge compares with a peer on one figure: "3.1x better" / "1.2x worse"."""
    if not isinstance(mine, (int, float)) or not isinstance(theirs, (int, float)) or not mine or not theirs:
        return "n/a"
    r = theirs / mine if lower_better else mine / theirs
    return f"{r:.2f}x better" if r >= 1 else f"{1 / r:.2f}x worse"


def _value(get: Getter, r: Any) -> Any:
    try:
        return get(r) if isinstance(r, dict) and not r.get("skipped") else None
    except Exception:  # a partial result
        return None


def headline(results: dict[str, Any]) -> str:
    """modembridge vs each peer on the five figures, as ratios from this run."""
    peers = [(k, n) for k, n in PEERS if k not in ("modembridge", "floor")]
    head = ("| figure | modembridge | " + " | ".join(f"{n} | mb vs {k}" for k, n in peers) + " |")
    lines = [head, "|" + "---|" * (2 + 2 * len(peers))]
    mine = results.get("modembridge") if isinstance(results.get("modembridge"), dict) else {}
    for label, get, lower, unit, digits, test in HEADLINE:
        m = _value(get, mine)
        mark = (" ✅" if test(m) else " ❌") if isinstance(m, (int, float)) else ""
        cells = [fmt(m, unit, digits) + mark]
        for k, _ in peers:
            v = _value(get, results.get(k))
            cells += [fmt(v, unit, digits), ratio(m, v, lower)]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def scaling_rows(r: dict[str, Any]) -> list[str]:
    out = []
    for s in r.get("scaling") or []:
        ideal = s["modems"] * 1.0
        out.append(f"| Sends/s with {s['modems']} modem(s), --send-delay 1 | {ideal:.0f}/s (grows with N) "
                   f"| {s['per_s']:.2f}/s ({s['per_s'] / ideal * 100:.0f} % of ideal) | n/a | n/a: one modem "
                   f"per process | n/a: one modem per process | - |")
    return out


def cell(results: dict[str, Any], key: str, row: Row) -> tuple[str, Any]:
    _, _, _, get, unit, digits, notes = row
    r = results.get(key)
    if not isinstance(r, dict):
        return "n/a: not run", None
    if r.get("error") and len(r) <= 2:
        return f"n/a: {r['error'][:60]}", None
    if r.get("skipped"):
        return f"n/a: {r['skipped']}", None
    try:
        v = get(r)
    except Exception:  # a partial result: show what exists
        v = None
    if key in notes and (v is None or notes[key].startswith("n/a")):
        return notes[key].strip(), None
    if v is None and key == "floor":
        return "-", None
    return fmt(v, unit, digits) + (notes.get(key, "") if v is not None and notes.get(key, "").startswith(" ")
                                   else ""), v


def table(results: dict[str, Any]) -> str:
    head = "| figure | target | " + " | ".join(name for _, name in PEERS) + " |"
    lines = [head, "|" + "---|" * (2 + len(PEERS))]
    for row in ROWS:
        label, target, test = row[0], row[1], row[2]
        cells = []
        for key, _ in PEERS:
            text, v = cell(results, key, row)
            if key == "modembridge" and test is not None and isinstance(v, (int, float)):
                text += " ✅" if test(v) else " ❌"
            cells.append(text)
        lines.append(f"| {label} | {target} | " + " | ".join(cells) + " |")
    if isinstance(results.get("modembridge"), dict):
        lines += scaling_rows(results["modembridge"])
    return "\n".join(lines)


def machine_line(m: dict[str, Any]) -> str:
    return (f"{m.get('nproc')} CPU(s), {m.get('cpu')}, Python {m.get('python')} "
            f"({m.get('python_path', '?')}), kernel {m.get('kernel')}, disk {m.get('disk')}")
