"""Text views for the operator: tables, the daemon's /status, journal listings and one message.

Everything renders the typed contracts of modembridge.model (BridgeStatus, MessageView, MessageSummary).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from enum import Enum

from modembridge.model import (
    BridgeStatus,
    FleetView,
    InboundPartView,
    InboundSummary,
    MessageSummary,
    MessageView,
    ModemSnapshot,
    OutboundPartView,
    OutboundView,
    SendUsage,
)


def table(header: Sequence[str], rows: Sequence[Sequence[str]], max_width: int = 48) -> list[str]:
    """Left-aligned columns; a cell longer than `max_width` is cut with an ellipsis."""
    cells = [[c if len(c) <= max_width else c[: max_width - 1] + "…" for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(header)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return [fmt.format(*header).rstrip()] + [fmt.format(*r).rstrip() for r in cells]


def when(ts: datetime | None) -> str:
    """'YYYY-MM-DD HH:MM:SSZ'."""
    return "-" if ts is None else ts.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def fmt(value: object) -> str:
    """One value as a cell: '-' for nothing, enums by value, times in UTC, mappings as k=v, ..."""
    if value is None or value == "":
        return "-"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, datetime):
        return when(value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={fmt(v)}" for k, v in value.items()) or "-"
    if isinstance(value, tuple | list):
        return ",".join(fmt(v) for v in value) or "-"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return fmt({f.name: getattr(value, f.name) for f in dataclasses.fields(value)
                    if shown(getattr(value, f.name))})
    return str(value)


def shown(value: object) -> bool:
    """Whether a value is worth a line: not empty, None or False (0 is shown)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return any(shown(getattr(value, f.name)) for f in dataclasses.fields(value))
    if isinstance(value, Mapping):
        return any(shown(v) for v in value.values())
    return not (value is None or value is False or value == "" or value == () or value == [])


# -- /status ---------------------------------------------------------------------------------------


def _sim_fill(m: ModemSnapshot) -> str:
    """'SM 3/30, ME 0/100'."""
    return ", ".join(f"{mem} {fill.used}/{fill.total}" for mem, fill in m.storage.items()) or "-"


def _usage_line(u: SendUsage) -> str:
    """'3/3 parts today, 5/500 recipients this month, 30/min; waiting: ... (next send 2026-12-03T00:00)'."""
    def cap(n: int | float) -> str:
        return f"{n:g}" if n else "unlimited"

    line = (f"{u.sent_today}/{cap(u.max_parts_per_day)} parts today, {u.recipients_this_month}/"
            f"{cap(u.max_recipients_per_month)} recipients this month, {cap(u.max_parts_per_minute)}/min")
    if u.waiting:
        line += f"; waiting: {u.waiting}"
    if u.next_send_at is not None:
        line += f" (next send {u.next_send_at.isoformat(timespec='seconds')})"
    return line


def render_status(status: BridgeStatus) -> str:
    """The daemon's status as a readable report: a table of modems, their details, queues and counters."""
    out = ["modems:"]
    rows = []
    details = []
    for mid, m in status.modems.items():
        signal = "-" if m.signal_dbm is None else f"{m.signal_dbm} dBm"
        rows.append([mid, m.state.value, signal, fmt(m.registration), fmt(m.operator), _sim_fill(m),
                     fmt(m.last_error)])
        extra = {"state_reason": m.state_reason, "port": m.port, "info": m.info, "cnmi": m.cnmi,
                 "sim_full": m.sim_full or None, "sim_swap": m.sim_swap, "recovery": m.recovery}
        usage = status.usage.get(mid)
        if usage is not None and (usage.max_parts_per_day or usage.max_recipients_per_month
                                  or usage.max_parts_per_minute or usage.waiting):
            extra["sending"] = _usage_line(usage)
        bal = status.balance.get(mid)
        if bal is not None:
            amount = "unknown" if bal.amount is None else f"{bal.amount:g}" + (" (LOW)" if bal.low else "")
            when_ = f" at {bal.at.isoformat(timespec='seconds')}" if bal.at else ""
            extra["balance"] = amount + when_ + (f"; last check: {bal.error}" if bal.error else "")
        extra = {k: v for k, v in extra.items() if shown(v)}
        if extra:
            details.append(f"  {mid}:")
            details += [f"    {k + ':':<14}{fmt(v)}" for k, v in extra.items()]
    if rows:
        out += ["  " + line for line in table(
            ["ID", "STATE", "SIGNAL", "REG", "OPERATOR", "SIM", "LAST ERROR"], rows)]
        out += details
    else:
        out.append("  (none)")
    queues = status.queues
    out.append("queues:")
    out.append(f"  outbound_parts: {fmt(queues.outbound_parts)}")
    out.append("  journal:")
    out.append(f"    in: {fmt(queues.journal.inbound)}")
    out.append(f"    out: {fmt(queues.journal.outbound)}")
    if status.counters:
        out.append("counters:")
        out += [f"  {name}: {value}" for name, value in status.counters.items()]
    return "\n".join(out)


# -- the journal -------------------------------------------------------------------------------------


def render_fleet(view: FleetView) -> str:
    """Every host of the fleet, its modems, and the shared queue."""
    q = view.queue
    age = "-" if q.oldest_age is None else f"{q.oldest_age:.0f} s"
    out = [f"fleet {view.group} (asked host {view.host_id}):", "hosts:"]
    rows = []
    for h in view.hosts:
        modems = h.status.modems if h.status is not None else {}
        states = ", ".join(f"{mid} {m.state.value}" for mid, m in modems.items()) \
            or ", ".join(h.modems) or "-"
        queued = sum(h.status.queues.outbound_parts.values()) if h.status is not None else 0
        rows.append([h.host_id, "GONE" if h.gone else "up", when(h.seen_at), states, str(queued)])
    out += ["  " + line for line in table(["HOST", "STATE", "LAST HEARTBEAT", "MODEMS", "HELD PARTS"], rows,
                                          max_width=60)] if rows else ["  (none)"]
    out.append("queue:")
    out.append(f"  depth: {q.depth}   oldest: {age}   leased: {q.leased}   unknown (last week): {q.unknown}")
    if q.lanes:
        out.append(f"  lanes: {fmt(q.lanes)}")
    return "\n".join(out)


def render_recent(direction: str, items: Sequence[MessageSummary], state: str | None = None) -> str:
    """A direction's recent messages ('in' or 'out') as a titled table."""
    title = "inbound:" if direction == "in" else "outbound:"
    if not items:
        return f"{title}\n  (none)" + (f" in state {state!r}" if state else "")
    who = "FROM" if direction == "in" else "TO"
    header = ["ID", "WHEN", "STATE", who, "MODEM", "PARTS", "ERROR", "TEXT"]
    return "\n".join([title] + ["  " + line for line in table(header, _list_rows(items))])


def _list_rows(items: Sequence[MessageSummary]) -> list[list[str]]:
    rows = []
    for m in items:
        if isinstance(m, InboundSummary):
            who, at, error = m.sender, m.received_at, m.last_error
        else:
            who = f"{m.recipients} recipient{'' if m.recipients == 1 else 's'}"
            at, error = m.created_at, None
        rows.append([m.id, when(at), m.state, fmt(who), fmt(m.modem), fmt(m.parts), fmt(error),
                     m.text.replace("\n", " ")])
    return rows


def render_view(view: MessageView) -> str:
    """A message view as text: its fields, then recipients and parts."""
    kind = "outbound" if isinstance(view, OutboundView) else "inbound"
    lines = [f"{kind} message {view.id}"]
    for f in dataclasses.fields(view):
        value = getattr(view, f.name)
        if (f.name in ("id", "direction", "recipients", "parts") and not isinstance(value, int)) \
                or not shown(value):
            continue
        lines.append(f"  {f.name + ':':<16}{fmt(value)}")
    if isinstance(view, OutboundView):
        for r in view.recipients:
            head = {"modem": r.modem, "state": r.state, "delivery": r.delivery}
            lines.append(f"  recipient {r.number}: {fmt({k: v for k, v in head.items() if shown(v)})}")
            lines += _parts(r.parts, "    ")
    else:
        lines.append("  parts:")
        lines += _parts(view.parts, "    ")
    return "\n".join(lines)


def _parts(parts: Sequence[OutboundPartView | InboundPartView], indent: str) -> list[str]:
    lines = []
    for p in parts:
        total = p.total if isinstance(p, OutboundPartView) else None
        head = f"{indent}part {p.seq}" + (f"/{total}" if total else "")
        fields = [f"{f.name}={fmt(getattr(p, f.name))}" for f in dataclasses.fields(p)
                  if f.name not in ("seq", "total", "pdu") and shown(getattr(p, f.name))]
        lines.append(f"{head}: {', '.join(fields)}")
        if isinstance(p, InboundPartView) and p.pdu and p.error:
            lines.append(f"{indent}  raw PDU: {p.pdu}")
    return lines
