"""`modembridge selftest MODEM [--to NUMBER]`: prove a modem host works end to end. The daemon sends an
SMS through MODEM to its own SIM (AT+CNUM, or [[modem]] own_number, or --to) and times the SMSC's
acknowledgement, its arrival back and its delivery report."""

from __future__ import annotations

import argparse
import json
from typing import Any

from modembridge.cli.api import add_endpoint_args, endpoint, http_json, refused


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("modem", help="the modem id ([[modem]] id)")
    parser.add_argument("--to", metavar="NUMBER", help="send here instead of the SIM's own number")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for each step (120)")
    parser.add_argument("--json", action="store_true", help="print the daemon's JSON answer")
    add_endpoint_args(parser, token=True)


def _seconds(value: Any) -> str:
    return f"{value:8.3f} s" if isinstance(value, int | float) else "       -  "


def run(args: argparse.Namespace) -> int:
    daemon = endpoint(args)
    body: dict[str, Any] = {"timeout": args.timeout}
    if args.to:
        body["to"] = args.to
    status, result = http_json("POST", f"{daemon.url}/api/v1/modems/{args.modem}/selftest",
                               token=args.token or daemon.api_token, body=body, timeout=args.timeout + 30)
    if status != 200 or not isinstance(result, dict):
        raise refused(status, result, "selftest refused")
    if args.json:
        print(json.dumps(result, indent=2))
        return 0 if result.get("ok") else 1
    mr = f"  (mr {result['mr']})" if result.get("mr") is not None else ""
    report = f"  ({result['report_status']})" if result.get("report_status") else ""
    print(f"selftest {result.get('modem_id')} -> {result.get('to')}  message {result.get('message_id')}")
    print(f"  SMSC acknowledged  {_seconds(result.get('smsc_ack'))}{mr}")
    print(f"  arrived back       {_seconds(result.get('arrived'))}")
    print(f"  delivery report    {_seconds(result.get('report'))}{report}")
    print("ok" if result.get("ok") else f"FAILED: {result.get('error')}")
    return 0 if result.get("ok") else 1
