"""`modembridge send --to NUMBER --text TEXT`: send an SMS through the running daemon's native API."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from modembridge.cli.api import add_endpoint_args, endpoint, http_json, refused


def configure(parser: argparse.ArgumentParser) -> None:
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
    add_endpoint_args(parser, token=True)


def run(args: argparse.Namespace) -> int:
    text = sys.stdin.read() if args.text == "-" else args.text
    if args.text == "-" and text.endswith("\n"):
        text = text[:-1]
    daemon = endpoint(args)
    body: dict[str, Any] = {"to": list(args.to), "text": text}
    if args.client_id:
        body["id"] = args.client_id
    if args.status_report:
        body["status_report"] = True
    if args.modem:
        body["modem"] = args.modem
    status, payload = http_json(
        "POST", f"{daemon.url}/api/v1/messages", token=args.token or daemon.api_token, body=body
    )
    if status not in (200, 201, 202) or not isinstance(payload, dict):
        raise refused(status, payload, "send refused")
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
