"""A handler for timing tests: `slow <seconds>` waits that long (max 30), then replies "done <seconds>"."""

from __future__ import annotations

import time

from rapidsms.contrib.handlers.handlers.keyword import KeywordHandler  # type: ignore[import-untyped]


class SlowHandler(KeywordHandler):  # type: ignore[misc]
    keyword = "slow"

    def help(self) -> None:
        self.respond("Send: SLOW <seconds>")

    def handle(self, text: str) -> None:
        seconds = min(float(text.split()[0]), 30.0)
        time.sleep(seconds)  # a slow site (database, external API): the inbound request stays open
        self.respond(f"done {text.split()[0]}")
