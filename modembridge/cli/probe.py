"""`modembridge probe PORT`: identify a modem, judge whether it can serve, suggest a ``[[modem]]`` section.

The probing is modembridge.at.probe's; this is its command line. Exit codes: 0 usable, 1 a problem (listed),
2 no port (missing, busy, locked), 3 no answer to AT.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from modembridge.at.errors import AtTimeout, ModemUnavailable
from modembridge.at.probe import modem_manager_running, probe_port, render, uucp_lock_owner

EXIT_OK, EXIT_PROBLEM, EXIT_NO_PORT, EXIT_NO_ANSWER = 0, 1, 2, 3


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("port", help="serial device, e.g. /dev/ttyUSB2 or /dev/serial/by-id/...")
    parser.add_argument("--baud", type=int, default=115200, help="baud rate (default 115200)")
    parser.add_argument("--pin", default="", help="SIM PIN to enter if the SIM asks (careful: 3 wrong = PUK)")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds per command (default 5)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace) -> int:
    lock = uucp_lock_owner(args.port)
    if lock is not None:
        print(f"modembridge probe: {args.port}: busy: locked by process {lock[1]} ({lock[0]})")
        return EXIT_NO_PORT
    if modem_manager_running():
        print("note: ModemManager is running: it may grab this modem; give the modem a udev rule with "
              'ENV{ID_MM_DEVICE_IGNORE}="1" (`modembridge udev-rule PORT`)', file=sys.stderr)
    try:
        rep = asyncio.run(probe_port(args.port, args.baud, args.pin, args.timeout))
    except ModemUnavailable as e:
        print(f"modembridge probe: {e}")
        return EXIT_NO_PORT
    except AtTimeout as e:
        print(f"modembridge probe: {e}\n  hint: wrong port or baud rate? USB modems expose several ports and "
              "only one speaks AT (try the others); try --baud 9600 or 115200; is the modem powered?")
        return EXIT_NO_ANSWER
    if args.json:
        print(json.dumps(rep.to_json(), indent=2))
    else:
        print(render(rep))
    return EXIT_OK if rep.usable else EXIT_PROBLEM
