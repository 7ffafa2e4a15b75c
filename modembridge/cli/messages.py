"""`modembridge messages list|show|retry|cancel`: the journal, "where is my SMS?"."""

from __future__ import annotations

import argparse
import json
import time
from typing import TYPE_CHECKING, Literal

from modembridge.cli.common import CliError
from modembridge.cli.journal import add_journal_args, open_journal
from modembridge.cli.render import render_recent, render_view
from modembridge.model.wire import to_wire

if TYPE_CHECKING:
    from modembridge.store import Store


def configure(parser: argparse.ArgumentParser) -> None:
    add_journal_args(parser)
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    ls = sub.add_parser("list", help="recent messages, newest first")
    way = ls.add_mutually_exclusive_group()
    way.add_argument("--in", dest="direction", action="store_const", const="in", help="inbound only")
    way.add_argument("--out", dest="direction", action="store_const", const="out", help="outbound only")
    ls.add_argument(
        "--state", help="only this state (e.g. queued, failed, unknown, received, rejected, dead, unmatched, "
        "discarded, indication, replaced)"
    )
    ls.add_argument("--limit", type=int, default=20, help="at most N per direction (default 20)")
    ls.add_argument("--json", action="store_true")
    show = sub.add_parser("show", help="one message: per recipient and part states, errors, raw PDUs")
    show.add_argument("id")
    show.add_argument("--json", action="store_true")
    retry = sub.add_parser("retry", help="queue a failed/dead/rejected/unknown message again")
    retry.add_argument("id")
    cancel = sub.add_parser("cancel", help="cancel the still-queued parts of an outbound message")
    cancel.add_argument("id")


def run(args: argparse.Namespace) -> int:
    store = open_journal(args)
    try:
        return _action(store, args)
    finally:
        store.close()


def _action(store: Store, args: argparse.Namespace) -> int:
    if args.action == "list":
        directions: list[Literal["in", "out"]] = [args.direction] if args.direction else ["in", "out"]
        result = {d: store.views.recent(direction=d, state=args.state, limit=args.limit) for d in directions}
        if args.json:
            print(json.dumps(to_wire(result), indent=2, ensure_ascii=False))
            return 0
        for d in directions:
            print(render_recent(d, result[d], args.state))
        return 0
    if args.action == "show":
        view = store.views.message(args.id)
        if view is None:
            raise CliError(f"no message {args.id!r} in the journal")
        print(json.dumps(to_wire(view), indent=2, ensure_ascii=False) if args.json else render_view(view))
        return 0
    now = time.time()
    if args.action == "retry":
        done = store.outbox.retry(args.id, now) or store.inbox.retry(args.id, now)
        verb, hint = "queued again", "only failed, dead, rejected or unknown messages can be retried"
    else:
        done = store.outbox.cancel(args.id, now)
        verb, hint = "cancelled", "only outbound messages with queued parts can be cancelled"
    if not done:
        raise CliError(f"{args.id}: nothing to do ({hint}; `modembridge messages show {args.id}`)")
    store.commit_now()
    print(f"{args.id}: {verb}")
    return 0
