"""`modembridge ussd MODEM CODE [REPLY...]`: a USSD request through the running daemon, walking a menu.

Each REPLY answers the menu the previous answer showed; the session is ended (DELETE) if the replies run
out while the network still waits for one. Prints each answer as the network gave it.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from modembridge.cli.api import add_endpoint_args, endpoint, http_json, refused
from modembridge.cli.common import CliError

EXIT_TIMEOUT = 2  # the network did not answer within ussd_timeout


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("modem", help="the modem id ([[modem]] id)")
    parser.add_argument("code", help='the USSD code, e.g. "*100#" (quote it: # starts a shell comment)')
    parser.add_argument("replies", nargs="*", metavar="REPLY", help="answers to the menus, in order")
    parser.add_argument("--json", action="store_true", help="print each answer's JSON")
    add_endpoint_args(parser, token=True)


def run(args: argparse.Namespace) -> int:
    daemon = endpoint(args)
    token = args.token or daemon.api_token
    url = f"{daemon.url}/api/v1/modems/{args.modem}/ussd"
    session: str | None = None
    for step, code in enumerate([args.code, *args.replies]):
        body: dict[str, Any] = {"code": code}
        if session is not None:
            body["session"] = session
        status, payload = http_json("POST", url, token=token, body=body, timeout=120.0)
        if status == 504:
            print("no answer from the network (timeout)")
            return EXIT_TIMEOUT
        if status != 200 or not isinstance(payload, dict):
            raise refused(status, payload, "USSD refused")
        if args.json:
            print(json.dumps(payload, ensure_ascii=False))
        else:
            if step:
                print(f"> {code}")
            print(payload.get("text", ""))
        session = payload.get("session")
        if payload.get("status") != "more":
            if step < len(args.replies):
                raise CliError(f"the session ended ({payload.get('status')}) with replies left over")
            return 0 if payload.get("status") in ("done", "ended") else 1
    if session is not None:  # the menu still waits: end it rather than leave it open on the modem
        http_json("DELETE", url, token=token)
        if not args.json:
            print("(menu left: session ended)")
    return 0
