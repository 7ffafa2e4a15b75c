"""`modembridge status`: the running daemon's /status as a readable report (or its JSON)."""

from __future__ import annotations

import argparse
import json

from modembridge.cli.api import add_endpoint_args, endpoint, http_json, refused
from modembridge.cli.common import CliError
from modembridge.cli.render import render_status
from modembridge.model import BridgeStatus
from modembridge.model.wire import WireError, from_wire


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the raw JSON")
    parser.add_argument("--token", help="http.status_token, if set (default: env MODEMBRIDGE_STATUS_TOKEN)")
    add_endpoint_args(parser, token=False)


def run(args: argparse.Namespace) -> int:
    daemon = endpoint(args)
    status, payload = http_json("GET", f"{daemon.url}/status", token=args.token or daemon.status_token)
    if status != 200 or not isinstance(payload, dict):
        raise refused(status, payload, "status")
    if args.json:
        print(json.dumps(payload, indent=2, ensure_ascii=False))
        return 0
    try:
        typed = from_wire(BridgeStatus, payload)
    except WireError as exc:
        raise CliError(f"status: {daemon.url} answered a /status this version cannot read ({exc}); "
                       "try --json") from exc
    print(render_status(typed))
    return 0
