"""`modembridge <command> ...`: the command line.

A registry maps each command to its module (one module per command, in this package) and a one-line help.
A command module is imported only when its command runs, so `modembridge run` starts fast and a broken
optional module cannot break the others. It provides ``configure(parser)`` (its options) and
``run(args) -> int`` (the exit code); raising :class:`~modembridge.cli.common.CliError` prints
``modembridge <command>: <message>`` on stderr and exits with its code.

Shared by the commands: common.py (CliError, exit codes, reading the daemon's config), api.py (the daemon's
HTTP API: URL, tokens, one request), journal.py (opening the journal), render.py (tables, /status, messages).
The daemon itself is composed in modembridge.app.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Protocol, cast


class CommandModule(Protocol):
    def configure(self, parser: argparse.ArgumentParser) -> None: ...
    def run(self, args: argparse.Namespace) -> int: ...


# name -> (its module in this package, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("run", "run the bridge daemon: modem(s) <-> HTTP"),
    "demo": ("demo", "run the bridge against the simulated modem, with a built-in echo router"),
    "sim": ("sim", "run the simulated GSM modem on a pseudo-terminal"),
    "probe": ("probe", "identify a modem on a serial port and suggest a config"),
    "send": ("send", "send an SMS through the running daemon's API"),
    "status": ("status", "show the running daemon's status"),
    "selftest": ("selftest", "send an SMS through a modem to its own SIM and time each step"),
    "ussd": ("ussd", "send a USSD code through a modem of the running daemon and walk its menu"),
    "messages": ("messages", "list, show, retry or cancel journal entries"),
    "forget-pin": ("forget_pin", "forget the PINs a modem's SIM rejected (after fixing the cause)"),
    "udev-rule": ("udev_rule", "print a udev rule giving the modem at PORT a stable name"),
}


def _usage() -> str:
    width = max(len(n) for n in COMMANDS)
    lines = ["usage: modembridge <command> [options]", "", "commands:"]
    lines += [f"  {name:<{width}}  {help_}" for name, (_, help_) in COMMANDS.items()]
    lines += ["", "`modembridge <command> --help` for a command's options."]
    return "\n".join(lines)


def load(name: str) -> CommandModule:
    """The module of command `name` (imported now)."""
    return cast(CommandModule, importlib.import_module(f"{__name__}.{COMMANDS[name][0]}"))


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0
    if args[0] in ("-V", "--version"):
        from modembridge import __version__

        print(f"modembridge {__version__}")
        return 0
    name = args[0]
    if name not in COMMANDS:
        print(f"modembridge: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    from modembridge.cli.common import CliError

    module = load(name)
    parser = argparse.ArgumentParser(prog=f"modembridge {name}", description=COMMANDS[name][1])
    module.configure(parser)
    ns = parser.parse_args(args[1:])
    try:
        return int(module.run(ns))
    except CliError as exc:
        print(f"modembridge {name}: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130
