"""The modem watch: what the bridge does when a modem's state changes.

A modem that is no longer READY releases its queued recipients that have nothing sent yet (and are not
pinned to it), so another modem takes them; every change wakes the senders (a modem that became READY
has work waiting).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from modembridge.at import ModemState
from modembridge.store import Store

log = logging.getLogger(__name__)


class ModemWatch:
    def __init__(self, modem_id: str, store: Store, *, wake_senders: Callable[[], None]) -> None:
        self.modem_id = modem_id
        self.store = store
        self._wake_senders = wake_senders

    def state_changed(self, state: ModemState, reason: str) -> None:
        log.debug("modem %s: %s (%s)", self.modem_id, state.value, reason)  # the driver logs it at info
        if state is not ModemState.READY:
            released = self.store.outbox.release_modem(self.modem_id)
            if released:
                self.store.commit_now()
                log.warning("modem %s down: %d queued recipient(s) handed to the other modems",
                            self.modem_id, released)
        self._wake_senders()
