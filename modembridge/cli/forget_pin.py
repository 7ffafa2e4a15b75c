"""`modembridge forget-pin MODEM`: forget the PINs a modem's SIM rejected, after fixing the cause."""

from __future__ import annotations

import argparse
import time

from modembridge.cli.journal import add_journal_args, open_journal

PIN_FACTS = ("pin_rejected", "pin_unconfirmed")  # see modembridge.at.sim_lock


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Forget the PINs a modem's SIM rejected, so the configured pin is tried again (once) at the next "
        "start. Use it only after fixing the cause (the SIM's PIN changed in a phone to match the config): "
        "three wrong PINs lock the SIM. Then restart the daemon."
    )
    parser.add_argument("modem", help="the modem id ([[modem]] id)")
    add_journal_args(parser)


def run(args: argparse.Namespace) -> int:
    store = open_journal(args)
    try:
        known = [k for k in PIN_FACTS if store.facts.get(args.modem, k) is not None]
        for key in known:
            store.facts.set(args.modem, key, None, time.time())
        store.commit_now()
    finally:
        store.close()
    if not known:
        print(f"{args.modem}: no rejected PIN remembered")
    else:
        print(f"{args.modem}: forgot {', '.join(known)}; restart the daemon to try the configured pin once")
    return 0
