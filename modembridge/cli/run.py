"""`modembridge run --config FILE`: the long-running daemon (modem(s) <-> HTTP) in the foreground.

Exit codes: 0 stopped by SIGTERM/SIGINT, 1 cannot start (the HTTP port is taken, the journal folder is not
writable, ...), 2 the config is invalid (the message names the file, the key and the reason).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from modembridge.config import ConfigError, load_config

log = logging.getLogger("modembridge")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", "-c", required=True, help="path to the TOML config file")
    parser.add_argument(
        "--log-level", default=None, help="override log_level from the config (DEBUG, INFO, ...)"
    )


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"modembridge: {exc}", file=sys.stderr)
        return 2
    from modembridge.app import serve, settle_heap, setup_logging  # here: a config error comes before aiohttp

    setup_logging(args.log_level or config.log_level)
    settle_heap()
    from modembridge.model.fleet import FleetMisconfigured

    try:
        return asyncio.run(serve(config))
    except OSError as exc:  # the HTTP port is taken, the journal folder is not writable, ...
        log.error("cannot start: %s", exc)
        return 1
    except FleetMisconfigured as exc:  # a Redis that would lose acknowledged sends: not for a minute
        log.error("cannot start: %s", exc)
        return 2
