"""`modembridge <command> ...`: a thin dispatcher.

Each sub-command lives in its own module, imported only when that command runs, so
`modembridge run` starts fast and a broken optional module cannot break the others.
A command module provides ``configure(parser)`` and ``run(args) -> int``; ``args.command``
holds the command name, so one module can serve several commands. configure() may read
``parser.prog`` to tell which.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("modembridge.daemon", "run the bridge daemon: modem(s) <-> HTTP"),
    "demo": ("modembridge.demo", "run the bridge against the simulated modem, with a built-in echo router"),
    "sim": ("modembridge.sim.cli", "run the simulated GSM modem on a pseudo-terminal"),
    "probe": ("modembridge.at.probe", "identify a modem on a serial port and suggest a config"),
    "send": ("modembridge.ops", "send an SMS through the running daemon's API"),
    "status": ("modembridge.ops", "show the running daemon's status"),
    "messages": ("modembridge.ops", "list, show, retry or cancel journal entries"),
    "forget-pin": ("modembridge.ops", "forget the PINs a modem's SIM rejected (after fixing the cause)"),
    "udev-rule": ("modembridge.udev", "print a udev rule giving the modem at PORT a stable name"),
}


def _usage() -> str:
    width = max(len(n) for n in COMMANDS)
    lines = ["usage: modembridge <command> [options]", "", "commands:"]
    lines += [f"  {name:<{width}}  {help_}" for name, (_, help_) in COMMANDS.items()]
    lines += ["", "`modembridge <command> --help` for a command's options."]
    return "\n".join(lines)


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
    module_name, help_ = COMMANDS[name]
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(prog=f"modembridge {name}", description=help_)
    module.configure(parser)
    ns = parser.parse_args(args[1:])
    ns.command = name
    try:
        return int(module.run(ns))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
