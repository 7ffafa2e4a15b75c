"""Which URLs a send's ``dlr-url`` may make the daemon call (against SSRF through delivery reports).

Any sendsms client chooses a dlr-url, and the daemon then GETs it: without a rule, a client could make it
fetch another service on the host or the network. By default only URLs under the router's scheme, host
and port (the RapidSMS site) are called back; ``[dlr] allowed_urls`` (URL prefixes) widens that
explicitly. A URL with credentials in it is never allowed. Checked when a send is accepted (a refused
dlr-url is a 400) and again before each call (a URL journalled under an older rule is not called).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from modembridge.config import Config

MAX_URL = 2048
_DEFAULT_PORTS = {"http": 80, "https": 443}
_KEEP = ":/?#[]@!$&'()*+,;=%~"  # reserved characters and '%' (Kannel escapes, existing %XX) stay as they are
_UNSAFE_PATH = re.compile(r"%2f|%5c|\\", re.IGNORECASE)  # an encoded slash or backslash, or a backslash


class CallbackRefused(ValueError):
    """The URL is not one the daemon may call back; the message says why."""


@dataclass(frozen=True)
class _Prefix:
    scheme: str
    host: str
    port: int
    path: str  # "" matches every path

    def covers(self, scheme: str, host: str, port: int, path: str) -> bool:
        if (scheme, host, port) != (self.scheme, self.host, self.port):
            return False
        if not self.path or path == self.path or self.path.endswith("/"):
            return path.startswith(self.path)
        return path.startswith(self.path + "/")  # "/dlr" covers "/dlr/x", not "/dlrx"


def _parts(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of an http(s) URL; CallbackRefused if it is not one, or has credentials."""
    try:
        split = urlsplit(url)
        port = split.port
    except ValueError as exc:
        raise CallbackRefused(f"not a URL: {exc}") from None
    scheme = split.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not split.hostname:
        raise CallbackRefused("must be an http:// or https:// URL with a host")
    if split.username is not None or split.password is not None:
        raise CallbackRefused("must not carry credentials (user:password@)")
    path = split.path or "/"
    if _UNSAFE_PATH.search(path) or any(seg in (".", "..") for seg in unquote(path).split("/")):
        # a server would resolve "/dlr/../admin" (or "%2e%2e", "%2f") to a path outside the prefix
        raise CallbackRefused("must not have '.' or '..' segments, or an encoded '/' or '\\', in its path")
    return scheme, split.hostname.lower(), port or _DEFAULT_PORTS[scheme], path


def normalize(url: str) -> str:
    """The URL with spaces, control and non-ASCII characters percent-encoded (UTF-8), the rest as given."""
    return quote(url.strip(), safe=_KEEP, encoding="utf-8")


def _prefix(url: str) -> _Prefix:
    scheme, host, port, path = _parts(url)
    return _Prefix(scheme, host, port, path if urlsplit(url).path else "")


class CallbackPolicy:
    def __init__(self, prefixes: Iterable[str]) -> None:
        self.prefixes = tuple(_prefix(p) for p in prefixes if p)

    @classmethod
    def for_router(cls, router_urls: Iterable[str], allowed: Iterable[str] = ()) -> CallbackPolicy:
        """The router's origins (scheme, host, port of each URL given; its credentials, if any, are the
        operator's and no part of the origin) plus the explicit prefixes."""
        origins = []
        for url in router_urls:
            try:
                split = urlsplit(url)
                port = split.port or _DEFAULT_PORTS.get(split.scheme.lower())
            except ValueError:  # the config's validation names a bad router URL
                continue
            host = split.hostname
            if host and port and split.scheme.lower() in _DEFAULT_PORTS:
                host = f"[{host}]" if ":" in host else host
                origins.append(f"{split.scheme.lower()}://{host}:{port}")
        return cls([*origins, *allowed])

    @classmethod
    def from_config(cls, config: Config) -> CallbackPolicy:
        return cls.for_router((config.router.url, config.router.url_template), config.dlr.allowed_urls)

    def check(self, url: str) -> str:
        """The normalized URL if it may be called back; CallbackRefused (with the reason) if not."""
        url = normalize(url)
        if len(url) > MAX_URL:
            raise CallbackRefused(f"longer than {MAX_URL} characters")
        scheme, host, port, path = _parts(url)
        if not any(p.covers(scheme, host, port, path) for p in self.prefixes):
            where = ", ".join(f"{p.scheme}://{p.host}:{p.port}{p.path}" for p in self.prefixes) or "none"
            raise CallbackRefused(f"not under an allowed callback URL (allowed: {where}; widen with "
                                  "[dlr] allowed_urls)")
        return url
