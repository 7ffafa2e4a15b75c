"""`modembridge status`: the running daemon's /status as a readable report (or its JSON)."""

from __future__ import annotations

import argparse
import json

from modembridge.cli.api import add_endpoint_args, endpoint, http_json, refused
from modembridge.cli.common import CliError
from modembridge.cli.render import render_fleet, render_status
from modembridge.model import BridgeStatus, FleetView
from modembridge.model.wire import WireError, from_wire


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the raw JSON")
    parser.add_argument("--fleet", action="store_true",
                        help="fleet mode: every host, its modems and the shared queue (GET /status?fleet=1)")
    parser.add_argument("--token", help="http.status_token, if set (default: env MODEMBRIDGE_STATUS_TOKEN)")
    add_endpoint_args(parser, token=False)


def run(args: argparse.Namespace) -> int:
    daemon = endpoint(args)
    path = "/status?fleet=1" if args.fleet else "/status"
    status, payload = http_json("GET", f"{daemon.url}{path}", token=args.token or daemon.status_token)
    if status != 200 or not isinstance(payload, dict):
        raise refused(status, payload, "status")
    if args.json:
        print(json.dumps(payload, indent=2, ensure_ascii=False))
        return 0
    try:
        print(render_fleet(from_wire(FleetView, payload)) if args.fleet
              else render_status(from_wire(BridgeStatus, payload)))
    except WireError as exc:
        raise CliError(f"status: {daemon.url} answered a {path} this version cannot read ({exc}); "
                       "try --json") from exc
    return 0
