"""Opening the daemon's journal for `messages` and `forget-pin`: from --db, else store.path in --config.

The journal is read and written directly (works while the daemon runs, and when it does not); it is never
created: a missing file is an error.
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from modembridge.cli.common import EXIT_CONFIG, CliError, read_config

if TYPE_CHECKING:
    from modembridge.store import Store


def add_journal_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="the daemon's config (for store.path)")
    parser.add_argument("--db", metavar="PATH", help="the journal file (default: store.path from --config)")


def open_journal(args: argparse.Namespace) -> Store:
    path = args.db
    if not path:
        if not args.config:
            raise CliError("give --config FILE (the daemon's config) or --db PATH (the journal)", EXIT_CONFIG)
        path = read_config(args.config).store.path
    if not os.path.exists(path):
        raise CliError(f"no journal at {path} (has the daemon run with this config?)", EXIT_CONFIG)
    from modembridge.store import Store

    try:
        return Store(path)
    except Exception as exc:
        raise CliError(f"cannot open the journal {path}: {exc}", EXIT_CONFIG) from exc
