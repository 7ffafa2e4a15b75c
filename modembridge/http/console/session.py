"""The console's login: a signed session cookie (HttpOnly, SameSite=Strict, no token in any URL) and the
CSRF token every action form carries.

A session is ``<role>.<expiry>.<csrf>.<mac>``: `role` is ``admin`` (logged in with ``http.api_token``:
pages and actions) or ``read`` (``http.status_token``: pages only), the MAC an HMAC-SHA256 under a key
made when the daemon starts (a restart logs everyone out, nothing secret is stored).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

COOKIE = "mb_console"
LIFETIME = 12 * 3600.0  # seconds a login lasts
Role = Literal["admin", "read"]


@dataclass(frozen=True)
class Session:
    role: Role
    expires: int
    csrf: str

    @property
    def admin(self) -> bool:
        return self.role == "admin"


class Sessions:
    def __init__(self, *, key: bytes | None = None, clock: Callable[[], float] = time.time) -> None:
        self._key = key or secrets.token_bytes(32)
        self._clock = clock

    def _mac(self, body: str) -> str:
        return hmac.new(self._key, body.encode("ascii"), hashlib.sha256).hexdigest()

    def issue(self, role: Role) -> tuple[Session, str]:
        """A new session and its cookie value."""
        session = Session(role, int(self._clock() + LIFETIME), secrets.token_urlsafe(24))
        body = f"{session.role}.{session.expires}.{session.csrf}"
        return session, f"{body}.{self._mac(body)}"

    def read(self, cookie: str | None) -> Session | None:
        """The session a cookie holds; None when absent, forged or expired."""
        if not cookie or len(cookie) > 256 or not cookie.isascii():
            return None
        body, _, mac = cookie.rpartition(".")
        if not hmac.compare_digest(mac.encode("ascii", "replace"), self._mac(body).encode("ascii")):
            return None
        role, _, rest = body.partition(".")
        expires, _, csrf = rest.partition(".")
        if role not in ("admin", "read") or not expires.isdigit() or int(expires) < self._clock() or not csrf:
            return None
        return Session("admin" if role == "admin" else "read", int(expires), csrf)

    @staticmethod
    def csrf_ok(session: Session | None, given: str | None) -> bool:
        return session is not None and given is not None and hmac.compare_digest(
            session.csrf.encode("ascii"), given.encode("utf-8", "replace"))
