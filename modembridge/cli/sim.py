"""`modembridge sim`: run one simulated modem on a pty until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from modembridge.sim.profiles import PROFILES


def configure(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--link", default="/tmp/modembridge-sim0", help="symlink to the pty slave (%(default)s)")
    add("--profile", choices=sorted(PROFILES), default="generic")
    add("--baud", type=int, default=None, help="pace both directions at BAUD/10 bytes/s")
    add("--send-delay", type=float, default=0.0, help="network seconds per +CMGS")
    add("--report-delay", type=float, default=0.5, help="seconds from submit to status report")
    add("--part-gap", type=float, default=0.05, help="seconds between parts of an injected SMS")
    add("--cnma-timeout", type=float, default=10.0, help="seconds to wait for +CNMA after +CMT")
    add("--cnma-mode", choices=["always", "csms1"], default="always",
        help="always: +CMT/+CDS need +CNMA; csms1: only with +CSMS=1 (27.005)")
    add("--register-delay", type=float, default=0.0, help="seconds searching (+CREG stat 2) after boot/PIN")
    add("--boot-delay", type=float, default=None, help="seconds before the boot banner")
    add("--seed", type=int, default=None, help="seed for vendor noise and garbage")
    add("--no-noise", action="store_true", help="no vendor noise (^RSSI ...)")
    add("--pin", default=None, help="SIM PIN (SIM starts locked)")
    add("--puk", default="12345678")
    add("--state", default=None, help="JSON file keeping SIM storage and the MR counter")
    add("--sm-capacity", type=int, default=30)
    add("--me-capacity", type=int, default=100)
    add("--sr-capacity", type=int, default=20)
    add("--control", default="127.0.0.1:0", help="HOST:PORT of the HTTP control API (loopback)")


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_main(args))


async def _main(args: argparse.Namespace) -> int:
    from modembridge.sim.harness import SimModem

    sim = SimModem(
        args.link, profile=args.profile, baud=args.baud, send_delay=args.send_delay, seed=args.seed,
        pin=args.pin, state=args.state, control=args.control,
        capacity={"SM": args.sm_capacity, "ME": args.me_capacity, "SR": args.sr_capacity},
        puk=args.puk, report_delay=args.report_delay, part_gap=args.part_gap, cnma_timeout=args.cnma_timeout,
        cnma_mode=args.cnma_mode, register_delay=args.register_delay,
        boot_delay=args.boot_delay, noise=not args.no_noise,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await sim.start()
    try:
        sys.stdout.write(f"READY link={sim.link} control={sim.control_url}\n")
        sys.stdout.flush()
        await stop.wait()
    finally:
        await sim.stop()
    return 0
