"""`modembridge udev-rule PORT [--name NAME]`: print a udev rule giving the modem at PORT a stable
/dev/gsm/<NAME> (the sysfs walk and the rule are modembridge.udev's). Exit 1, with the reason, when PORT
cannot have one (not found, a pty, not USB ...)."""

from __future__ import annotations

import argparse
import sys

from modembridge.cli.common import CliError
from modembridge.udev import UdevRuleError, default_name, find_usb_serial, render_rule


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("port", metavar="PORT", help="the modem's tty, e.g. /dev/ttyUSB2 or ttyACM0")
    parser.add_argument(
        "--name", help="link name: the rule creates /dev/gsm/NAME (default: from the product)"
    )
    parser.add_argument("--sysfs-root", default="/sys", metavar="DIR", help="sysfs mount point (tests)")
    parser.epilog = (
        "Install: save the output to /etc/udev/rules.d/99-modembridge.rules, then "
        "`udevadm control --reload && udevadm trigger -s tty` and check `ls -l /dev/gsm/`."
    )


def run(args: argparse.Namespace) -> int:
    try:
        info = find_usb_serial(args.port, args.sysfs_root)
        sys.stdout.write(render_rule(info, args.name or default_name(info)))
    except UdevRuleError as exc:
        raise CliError(str(exc)) from exc
    return 0
