"""Operator commands: `send`, `status` (through the daemon's HTTP API) and `messages` (the journal).

The answer to "where is my SMS?". Synchronous and light to import: urllib for HTTP, the store only for
`messages`. Exit codes: 0 done, 1 refused (HTTP 4xx/5xx, unknown id, nothing to do), 3 daemon unreachable,
4 configuration or journal unusable.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

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


def _fmt(value: Any) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_fmt(v)}" for k, v in value.items()) or "-"
    if isinstance(value, list):
        return ",".join(_fmt(v) for v in value) or "-"
    return str(value)


def _pick(d: Mapping[str, Any], *keys: str) -> Any:
    for k in keys:
        if d.get(k) not in (None, ""):
            return d[k]
    return None


def _signal(m: Mapping[str, Any]) -> str:
    dbm = _pick(m, "signal_dbm", "rssi_dbm", "dbm")
    if isinstance(m.get("signal"), dict):
        dbm = _pick(m["signal"], "dbm", "rssi_dbm") if dbm is None else dbm
    elif dbm is None:
        dbm = m.get("signal")
    return "-" if dbm is None else f"{dbm} dBm" if isinstance(dbm, int | float) else str(dbm)


def _sim_fill(m: Mapping[str, Any]) -> str:
    """'SM 3/30' from {"storage": {"SM": {"used": 3, "total": 30}}} (or {"used", "total"} directly)."""
    for key in ("storage", "sim", "sim_storage"):
        s = m.get(key)
        if not isinstance(s, dict):
            continue
        if "used" in s:
            return f"{s['used']}/{s.get('total', '?')}"
        mems = [
            f"{mem} {v.get('used', '?')}/{v.get('total', '?')}" for mem, v in s.items() if isinstance(v, dict)
        ]
        if mems:
            return ", ".join(mems)
    used, total = _pick(m, "sim_used", "storage_used"), _pick(m, "sim_total", "storage_total")
    return "-" if used is None else f"{used}/{total if total is not None else '?'}"


MODEM_KEYS_SHOWN = {
    "id",
    "state",
    "signal",
    "signal_dbm",
    "rssi_dbm",
    "dbm",
    "registration",
    "operator",
    "sim",
    "storage",
    "sim_storage",
    "sim_used",
    "sim_total",
    "storage_used",
    "storage_total",
    "last_error",
}


def render_status(status: Mapping[str, Any]) -> str:
    """The daemon's /status JSON as a readable report."""
    out: list[str] = []
    modems = status.get("modems") or {}
    items: Iterable[tuple[str, Any]] = (
        modems.items() if isinstance(modems, dict) else ((str(m.get("id", "?")), m) for m in modems)
    )
    rows = []
    details = []
    for mid, m in items:
        m = m if isinstance(m, dict) else {"state": m}
        rows.append(
            [
                mid,
                _fmt(m.get("state")),
                _signal(m),
                _fmt(m.get("registration")),
                _fmt(m.get("operator")),
                _sim_fill(m),
                _fmt(m.get("last_error")),
            ]
        )
        extra = {k: v for k, v in m.items() if k not in MODEM_KEYS_SHOWN and _shown(v)}
        if extra:
            details.append(f"  {mid}:")
            details += [f"    {k + ':':<14}{_fmt(v)}" for k, v in extra.items()]
    out.append("modems:")
    if rows:
        out += [
            "  " + line
            for line in table(["ID", "STATE", "SIGNAL", "REG", "OPERATOR", "SIM", "LAST ERROR"], rows)
        ]
        out += details
    else:
        out.append("  (none)")
    for section in ("queues", "counters"):
        value = status.get(section)
        if value:
            out.append(f"{section}:")
            out += _nested(value, "  ")
    for key, value in status.items():
        if key not in ("modems", "queues", "counters"):
            out.append(f"{key}: {_fmt(value)}")
    return "\n".join(out)


def _nested(value: Any, indent: str) -> list[str]:
    if not isinstance(value, dict):
        return [indent + _fmt(value)]
    lines = []
    for k, v in value.items():
        if isinstance(v, dict) and any(isinstance(x, dict) for x in v.values()):
            lines.append(f"{indent}{k}:")
            lines += _nested(v, indent + "  ")
        else:
            lines.append(f"{indent}{k}: {_fmt(v)}")
    return lines


def run_status(args: argparse.Namespace) -> int:
    url, _, status_token = _endpoint(args)
    status, payload = http_json("GET", f"{url}/status", token=args.token or status_token)
    if status != 200 or not isinstance(payload, dict):
        raise _refused(status, payload, "status")
    print(json.dumps(payload, indent=2, ensure_ascii=False) if args.json else render_status(payload))
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


def _when(ts: Any) -> str:
    """Unix seconds or the views' ISO 8601 UTC text as 'YYYY-MM-DD HH:MM:SSZ'."""
    if isinstance(ts, int | float) and not isinstance(ts, bool):
        return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(ts))
    if isinstance(ts, str) and len(ts) >= 19 and ts[10] == "T":
        return f"{ts[:10]} {ts[11:19]}Z"
    return _fmt(ts)


def _list_rows(direction: str, items: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    rows = []
    for m in items:
        if direction == "in":
            who = _fmt(m.get("sender"))
        else:
            n = m.get("recipients")
            who = f"{n} recipient{'' if n == 1 else 's'}" if isinstance(n, int) else _fmt(n)
        text = str(m.get("text", "")).replace("\n", " ")
        when = _pick(m, "created_at", "received_at", "updated_at")
        rows.append(
            [
                str(m.get("id", "?")),
                _when(when),
                _fmt(m.get("state")),
                who,
                _fmt(m.get("modem")),
                _fmt(m.get("parts")),
                _fmt(_pick(m, "last_error", "error")),
                text,
            ]
        )
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
        result = {d: store.list_messages(direction=d, state=args.state, limit=args.limit) for d in directions}
        if args.json:
            print(json.dumps(result, indent=2, ensure_ascii=False, default=str))
            return 0
        for d in directions:
            print("inbound:" if d == "in" else "outbound:")
            if not result[d]:
                print("  (none)" + (f" in state {args.state!r}" if args.state else ""))
                continue
            who = "FROM" if d == "in" else "TO"
            header = ["ID", "WHEN", "STATE", who, "MODEM", "PARTS", "ERROR", "TEXT"]
            print("\n".join("  " + line for line in table(header, _list_rows(d, result[d]))))
        return 0
    if args.action == "show":
        view = store.outbound_view(args.id)
        direction = "out"
        if view is None:
            view, direction = store.inbound_view(args.id), "in"
        if view is None:
            raise OpsError(f"no message {args.id!r} in the journal")
        print(
            json.dumps(view, indent=2, ensure_ascii=False, default=str)
            if args.json
            else render_view(view, direction)
        )
        return 0
    now = time.time()
    if args.action == "retry":
        done = store.retry_message(args.id, now)
        verb, hint = "queued again", "only failed, dead, rejected or unknown messages can be retried"
    else:
        done = store.cancel_message(args.id, now)
        verb, hint = "cancelled", "only outbound messages with queued parts can be cancelled"
    if not done:
        raise OpsError(f"{args.id}: nothing to do ({hint}; `modembridge messages show {args.id}`)")
    store.commit_now()
    print(f"{args.id}: {verb}")
    return 0


def _shown(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_shown(v) for v in value.values())
    return not (value is None or value is False or value == "" or value == [])  # 0 is shown (mr=0)


def render_view(view: Mapping[str, Any], direction: str) -> str:
    """A message view (store.outbound_view / inbound_view) as text: fields, then recipients and parts."""
    kind = "outbound" if direction == "out" else "inbound"
    lines = [f"{kind} message {view.get('id', '?')}"]
    for key, value in view.items():
        if key in ("id", "direction", "recipients") or isinstance(value, list) or not _shown(value):
            continue
        shown = _when(value) if key.endswith("_at") else _fmt(value)
        lines.append(f"  {key + ':':<16}{shown}")
    for r in view.get("recipients") or []:
        head = {k: v for k, v in r.items() if k not in ("parts", "number") and _shown(v)}
        lines.append(f"  recipient {r.get('number', '?')}: {_fmt(head)}")
        lines += _parts(r.get("parts") or [], "    ")
    if isinstance(view.get("parts"), list):
        lines.append("  parts:")
        lines += _parts(view["parts"], "    ")
    return "\n".join(lines)


def _parts(parts: Sequence[Mapping[str, Any]], indent: str) -> list[str]:
    lines = []
    for p in parts:
        seq, total = p.get("seq", "?"), p.get("total")
        head = f"{indent}part {seq}" + (f"/{total}" if total else "")
        fields = [
            f"{k}={_when(v) if k.endswith('_at') or k == 'smsc_time' else _fmt(v)}"
            for k, v in p.items()
            if k not in ("seq", "total", "pdu") and _shown(v)
        ]
        lines.append(f"{head}: {', '.join(fields)}")
        if p.get("pdu") and (p.get("error") or p.get("state") == "undecodable"):
            lines.append(f"{indent}  raw PDU: {p['pdu']}")
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
        known = [k for k in PIN_FACTS if store.modem_fact(args.modem, k) is not None]
        for key in known:
            store.set_modem_fact(args.modem, key, None, time.time())
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
