"""Operator commands: `send`, `status` (through the daemon's HTTP API) and `messages` (the journal).

The answer to "where is my SMS?". Synchronous and light to import: urllib for HTTP, the store only for
`messages`. Exit codes: 0 done, 1 refused (HTTP 4xx/5xx, unknown id, nothing to do), 3 daemon unreachable,
4 configuration or journal unusable.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from modembridge.model import (
    BridgeStatus,
    InboundPartView,
    InboundSummary,
    MessageSummary,
    MessageView,
    ModemSnapshot,
    OutboundPartView,
    OutboundView,
)
from modembridge.model.wire import WireError, from_wire, to_wire

DEFAULT_URL = "http://127.0.0.1:13013"
TOKEN_ENV = ("MODEMBRIDGE_API_TOKEN", "MODEMBRIDGE_HTTP_API_TOKEN")
STATUS_TOKEN_ENV = ("MODEMBRIDGE_STATUS_TOKEN", "MODEMBRIDGE_HTTP_STATUS_TOKEN")
EXIT_REFUSED, EXIT_UNREACHABLE, EXIT_CONFIG = 1, 3, 4


class OpsError(Exception):
    """A failure to report to the operator as one line; `code` is the exit status."""

    def __init__(self, message: str, code: int = EXIT_REFUSED) -> None:
        super().__init__(message)
        self.code = code


# -- configuration --------------------------------------------------------------------------------


def _config_http(path: str) -> tuple[str, str, str, str]:
    """(listen, api_token, status_token, store path) from the daemon's config file (env overrides applied)."""
    from modembridge.config import ConfigError, load_config

    try:
        cfg = load_config(path)
    except (ConfigError, OSError) as exc:  # ConfigError names the file and key
        raise OpsError(f"config: {exc}", EXIT_CONFIG) from exc
    return cfg.http.listen, cfg.http.api_token, cfg.http.status_token, cfg.store.path


def url_for_listen(listen: str) -> str:
    """The URL to reach a daemon listening on `listen` (a wildcard address is reached on loopback)."""
    host, _, port = listen.rpartition(":")
    host = host.strip("[]")
    if host in ("", "0.0.0.0", "*"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _endpoint(args: argparse.Namespace) -> tuple[str, str, str]:
    """(base url, api token, status token) from --url/--token, the environment and --config, in that order."""
    listen = api_token = status_token = ""
    if getattr(args, "config", None):
        listen, api_token, status_token, _ = _config_http(args.config)
    url = args.url or (url_for_listen(listen) if listen else DEFAULT_URL)
    token = next((os.environ[k] for k in TOKEN_ENV if os.environ.get(k)), "")
    if args.command == "send" and args.token:
        token = args.token
    status = next((os.environ[k] for k in STATUS_TOKEN_ENV if os.environ.get(k)), "") or status_token
    return url.rstrip("/"), token or api_token, status


# -- HTTP -------------------------------------------------------------------------------------------


def http_json(
    method: str, url: str, *, token: str = "", body: Any = None, timeout: float = 30.0
) -> tuple[int, Any]:
    """One request; returns (status, decoded JSON or text). Raises OpsError(EXIT_UNREACHABLE) if no daemon."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Accept": "application/json", "User-Agent": "modembridge-cli"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, raw, ctype = resp.status, resp.read(), resp.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        status, raw, ctype = exc.code, exc.read(), exc.headers.get("Content-Type", "")
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, ConnectionRefusedError):
            raise OpsError(
                f"cannot connect to {url}: connection refused — is the daemon running? "
                "(`supervisorctl status modembridge` / `systemctl status modembridge`)",
                EXIT_UNREACHABLE,
            ) from exc
        raise OpsError(f"cannot reach {url}: {reason}", EXIT_UNREACHABLE) from exc
    except (TimeoutError, OSError) as exc:
        raise OpsError(f"cannot reach {url}: {exc}", EXIT_UNREACHABLE) from exc
    text = raw.decode("utf-8", errors="replace")
    if "json" in ctype:
        try:
            return status, json.loads(text)
        except ValueError:
            pass
    return status, text


def _server_error(status: int, payload: Any) -> str:
    if isinstance(payload, dict):
        error = payload.get("error") or payload.get("message") or json.dumps(payload)
        field = payload.get("field")
        return f"{error} (field {field!r})" if field else str(error)
    return str(payload).strip()[:300] or "(empty answer)"


def _refused(status: int, payload: Any, what: str) -> OpsError:
    if status == 401:
        hint = "set --token, MODEMBRIDGE_API_TOKEN, or --config pointing at the daemon's config"
        return OpsError(f"{what}: 401 unauthorized: the API token is missing or wrong ({hint})")
    if status == 403:
        return OpsError(f"{what}: 403 forbidden: {_server_error(status, payload)}")
    if status == 404:
        return OpsError(
            f"{what}: 404 not found: {_server_error(status, payload)} (is the URL a modembridge?)"
        )
    return OpsError(f"{what}: HTTP {status}: {_server_error(status, payload)}")


# -- send -----------------------------------------------------------------------------------------


def _add_endpoint_args(parser: argparse.ArgumentParser, token: bool) -> None:
    parser.add_argument("--url", help=f"the daemon's base URL (default: from --config, else {DEFAULT_URL})")
    if token:
        parser.add_argument(
            "--token", help="API bearer token (default: env MODEMBRIDGE_API_TOKEN, or --config)"
        )
    parser.add_argument(
        "--config", metavar="FILE", help="the daemon's config: read http.listen and the tokens"
    )


def configure_send(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--to",
        action="append",
        required=True,
        metavar="NUMBER",
        help="recipient (+<country><number>, or national); repeat for several",
    )
    parser.add_argument("--text", required=True, help="the message; '-' reads it from stdin")
    parser.add_argument(
        "--id",
        dest="client_id",
        metavar="CLIENT_ID",
        help="idempotency key: sending again with the same id is a no-op",
    )
    parser.add_argument("--status-report", action="store_true", help="ask the network for a delivery report")
    parser.add_argument("--modem", metavar="ID", help="send through this modem only")
    parser.add_argument("--json", action="store_true", help="print the daemon's JSON answer")
    _add_endpoint_args(parser, token=True)


def run_send(args: argparse.Namespace) -> int:
    text = sys.stdin.read() if args.text == "-" else args.text
    if args.text == "-" and text.endswith("\n"):
        text = text[:-1]
    url, token, _ = _endpoint(args)
    body: dict[str, Any] = {"to": list(args.to), "text": text}
    if args.client_id:
        body["id"] = args.client_id
    if args.status_report:
        body["status_report"] = True
    if args.modem:
        body["modem"] = args.modem
    status, payload = http_json("POST", f"{url}/api/v1/messages", token=token, body=body)
    if status not in (200, 201, 202) or not isinstance(payload, dict):
        raise _refused(status, payload, "send refused")
    if args.json:
        print(json.dumps(payload, indent=2, ensure_ascii=False))
        return 0
    recipients = payload.get("recipients") or args.to
    parts = payload.get("parts", "?")
    plural = "" if parts == 1 else "s"
    again = "  (already accepted earlier with this --id: not sent twice)" if payload.get("duplicate") else ""
    print(f"accepted: {payload.get('id', '?')}{again}")
    print(f"  to:       {', '.join(map(str, recipients))}")
    print(f"  encoding: {payload.get('encoding', '?')}, {parts} part{plural} per recipient")
    print(f"  follow:   modembridge messages show {payload.get('id', '?')}")
    return 0


# -- status ---------------------------------------------------------------------------------------


def configure_status(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the raw JSON")
    parser.add_argument("--token", help="http.status_token, if set (default: env MODEMBRIDGE_STATUS_TOKEN)")
    _add_endpoint_args(parser, token=False)


def _fmt(value: object) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, datetime):
        return _when(value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_fmt(v)}" for k, v in value.items()) or "-"
    if isinstance(value, tuple | list):
        return ",".join(_fmt(v) for v in value) or "-"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _fmt({f.name: getattr(value, f.name) for f in dataclasses.fields(value)
                     if _shown(getattr(value, f.name))})
    return str(value)


def _sim_fill(m: ModemSnapshot) -> str:
    """'SM 3/30, ME 0/100'."""
    return ", ".join(f"{mem} {fill.used}/{fill.total}" for mem, fill in m.storage.items()) or "-"


def render_status(status: BridgeStatus) -> str:
    """The daemon's status as a readable report: a table of modems, their details, queues and counters."""
    out = ["modems:"]
    rows = []
    details = []
    for mid, m in status.modems.items():
        signal = "-" if m.signal_dbm is None else f"{m.signal_dbm} dBm"
        rows.append([mid, m.state.value, signal, _fmt(m.registration), _fmt(m.operator), _sim_fill(m),
                     _fmt(m.last_error)])
        extra = {"state_reason": m.state_reason, "port": m.port, "info": m.info, "cnmi": m.cnmi,
                 "sim_full": m.sim_full or None, "sim_swap": m.sim_swap, "recovery": m.recovery}
        shown = {k: v for k, v in extra.items() if _shown(v)}
        if shown:
            details.append(f"  {mid}:")
            details += [f"    {k + ':':<14}{_fmt(v)}" for k, v in shown.items()]
    if rows:
        out += ["  " + line for line in table(
            ["ID", "STATE", "SIGNAL", "REG", "OPERATOR", "SIM", "LAST ERROR"], rows)]
        out += details
    else:
        out.append("  (none)")
    queues = status.queues
    out.append("queues:")
    out.append(f"  outbound_parts: {_fmt(queues.outbound_parts)}")
    out.append("  journal:")
    out.append(f"    in: {_fmt(queues.journal.inbound)}")
    out.append(f"    out: {_fmt(queues.journal.outbound)}")
    if status.counters:
        out.append("counters:")
        out += [f"  {name}: {value}" for name, value in status.counters.items()]
    return "\n".join(out)


def run_status(args: argparse.Namespace) -> int:
    url, _, status_token = _endpoint(args)
    status, payload = http_json("GET", f"{url}/status", token=args.token or status_token)
    if status != 200 or not isinstance(payload, dict):
        raise _refused(status, payload, "status")
    if args.json:
        print(json.dumps(payload, indent=2, ensure_ascii=False))
        return 0
    try:
        typed = from_wire(BridgeStatus, payload)
    except WireError as exc:
        raise OpsError(f"status: {url} answered a /status this version cannot read ({exc}); "
                       "try --json") from exc
    print(render_status(typed))
    return 0


# -- tables ---------------------------------------------------------------------------------------


def table(header: Sequence[str], rows: Sequence[Sequence[str]], max_width: int = 48) -> list[str]:
    cells = [[c if len(c) <= max_width else c[: max_width - 1] + "…" for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(header)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return [fmt.format(*header).rstrip()] + [fmt.format(*r).rstrip() for r in cells]


# -- messages (the journal) ----------------------------------------------------------------------


def configure_messages(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="the daemon's config (for store.path)")
    parser.add_argument("--db", metavar="PATH", help="the journal file (default: store.path from --config)")
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    ls = sub.add_parser("list", help="recent messages, newest first")
    way = ls.add_mutually_exclusive_group()
    way.add_argument("--in", dest="direction", action="store_const", const="in", help="inbound only")
    way.add_argument("--out", dest="direction", action="store_const", const="out", help="outbound only")
    ls.add_argument(
        "--state", help="only this state (e.g. queued, failed, unknown, received, rejected, dead)"
    )
    ls.add_argument("--limit", type=int, default=20, help="at most N per direction (default 20)")
    ls.add_argument("--json", action="store_true")
    show = sub.add_parser("show", help="one message: per recipient and part states, errors, raw PDUs")
    show.add_argument("id")
    show.add_argument("--json", action="store_true")
    retry = sub.add_parser("retry", help="queue a failed/dead/rejected/unknown message again")
    retry.add_argument("id")
    cancel = sub.add_parser("cancel", help="cancel the still-queued parts of an outbound message")
    cancel.add_argument("id")


def _open_store(args: argparse.Namespace) -> Any:
    path = args.db
    if not path:
        if not args.config:
            raise OpsError("give --config FILE (the daemon's config) or --db PATH (the journal)", EXIT_CONFIG)
        path = _config_http(args.config)[3]
    if not os.path.exists(path):
        raise OpsError(f"no journal at {path} (has the daemon run with this config?)", EXIT_CONFIG)
    from modembridge.store import Store

    try:
        return Store(path)
    except Exception as exc:
        raise OpsError(f"cannot open the journal {path}: {exc}", EXIT_CONFIG) from exc


def _when(ts: datetime | None) -> str:
    """'YYYY-MM-DD HH:MM:SSZ'."""
    return "-" if ts is None else ts.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _list_rows(items: Sequence[MessageSummary]) -> list[list[str]]:
    rows = []
    for m in items:
        if isinstance(m, InboundSummary):
            who, when, error = m.sender, m.received_at, m.last_error
        else:
            who = f"{m.recipients} recipient{'' if m.recipients == 1 else 's'}"
            when, error = m.created_at, None
        rows.append([m.id, _when(when), m.state, _fmt(who), _fmt(m.modem), _fmt(m.parts), _fmt(error),
                     m.text.replace("\n", " ")])
    return rows


def _close(store: Any) -> None:
    close = getattr(store, "close", None)
    if callable(close):
        close()


def run_messages(args: argparse.Namespace) -> int:
    store = _open_store(args)
    try:
        return _messages_action(store, args)
    finally:
        _close(store)


def _messages_action(store: Any, args: argparse.Namespace) -> int:
    if args.action == "list":
        directions = [args.direction] if args.direction else ["in", "out"]
        result = {d: store.views.recent(direction=d, state=args.state, limit=args.limit) for d in directions}
        if args.json:
            print(json.dumps(to_wire(result), indent=2, ensure_ascii=False))
            return 0
        for d in directions:
            print("inbound:" if d == "in" else "outbound:")
            if not result[d]:
                print("  (none)" + (f" in state {args.state!r}" if args.state else ""))
                continue
            who = "FROM" if d == "in" else "TO"
            header = ["ID", "WHEN", "STATE", who, "MODEM", "PARTS", "ERROR", "TEXT"]
            print("\n".join("  " + line for line in table(header, _list_rows(result[d]))))
        return 0
    if args.action == "show":
        view = store.views.message(args.id)
        if view is None:
            raise OpsError(f"no message {args.id!r} in the journal")
        print(json.dumps(to_wire(view), indent=2, ensure_ascii=False) if args.json else render_view(view))
        return 0
    now = time.time()
    if args.action == "retry":
        done = store.outbox.retry(args.id, now) or store.inbox.retry(args.id, now)
        verb, hint = "queued again", "only failed, dead, rejected or unknown messages can be retried"
    else:
        done = store.outbox.cancel(args.id, now)
        verb, hint = "cancelled", "only outbound messages with queued parts can be cancelled"
    if not done:
        raise OpsError(f"{args.id}: nothing to do ({hint}; `modembridge messages show {args.id}`)")
    store.commit_now()
    print(f"{args.id}: {verb}")
    return 0


def _shown(value: object) -> bool:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return any(_shown(getattr(value, f.name)) for f in dataclasses.fields(value))
    if isinstance(value, Mapping):
        return any(_shown(v) for v in value.values())
    return not (value is None or value is False or value == "" or value == () or value == [])  # 0 is shown


def render_view(view: MessageView) -> str:
    """A message view as text: its fields, then recipients and parts."""
    kind = "outbound" if isinstance(view, OutboundView) else "inbound"
    lines = [f"{kind} message {view.id}"]
    for f in dataclasses.fields(view):
        value = getattr(view, f.name)
        if (f.name in ("id", "direction", "recipients", "parts") and not isinstance(value, int)) \
                or not _shown(value):
            continue
        lines.append(f"  {f.name + ':':<16}{_fmt(value)}")
    if isinstance(view, OutboundView):
        for r in view.recipients:
            head = {"modem": r.modem, "state": r.state}
            lines.append(f"  recipient {r.number}: {_fmt({k: v for k, v in head.items() if _shown(v)})}")
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
        fields = [f"{f.name}={_fmt(getattr(p, f.name))}" for f in dataclasses.fields(p)
                  if f.name not in ("seq", "total", "pdu") and _shown(getattr(p, f.name))]
        lines.append(f"{head}: {', '.join(fields)}")
        if isinstance(p, InboundPartView) and p.pdu and p.error:
            lines.append(f"{indent}  raw PDU: {p.pdu}")
    return lines


# -- forget-pin ------------------------------------------------------------------------------------

PIN_FACTS = ("pin_rejected", "pin_unconfirmed")  # see modembridge.at.sim_lock


def configure_forget_pin(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Forget the PINs a modem's SIM rejected, so the configured pin is tried again (once) at the next "
        "start. Use it only after fixing the cause (the SIM's PIN changed in a phone to match the config): "
        "three wrong PINs lock the SIM. Then restart the daemon."
    )
    parser.add_argument("modem", help="the modem id ([[modem]] id)")
    parser.add_argument("--config", metavar="FILE", help="the daemon's config (for store.path)")
    parser.add_argument("--db", metavar="PATH", help="the journal file (default: store.path from --config)")


def run_forget_pin(args: argparse.Namespace) -> int:
    store = _open_store(args)
    try:
        known = [k for k in PIN_FACTS if store.facts.get(args.modem, k) is not None]
        for key in known:
            store.facts.set(args.modem, key, None, time.time())
        store.commit_now()
    finally:
        _close(store)
    if not known:
        print(f"{args.modem}: no rejected PIN remembered")
    else:
        print(f"{args.modem}: forgot {', '.join(known)}; restart the daemon to try the configured pin once")
    return 0


# -- entry points -----------------------------------------------------------------------------------


def configure(parser: argparse.ArgumentParser) -> None:
    command = parser.prog.split()[-1]
    {"send": configure_send, "status": configure_status, "messages": configure_messages,
     "forget-pin": configure_forget_pin}[command](parser)


def run(args: argparse.Namespace) -> int:
    runner = {"send": run_send, "status": run_status, "messages": run_messages,
              "forget-pin": run_forget_pin}[args.command]
    try:
        return runner(args)
    except OpsError as exc:
        print(f"modembridge {args.command}: {exc}", file=sys.stderr)
        return exc.code
