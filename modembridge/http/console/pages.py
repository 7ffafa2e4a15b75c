"""The console's pages under ``/ui/``: login, the overview (live over server-sent events), messages and
one message's story. Server-rendered (Jinja2, autoescaped: every message text is escaped), one small
script for the live updates (``static/console.js``, no build step, no CDN: it works offline on a Pi).

Who sees what: the pages need ``http.status_token`` when one is set (as ``/status`` does), through the
login form; without a login an open console shows no subscriber identifiers. Actions need a login
with ``http.api_token`` and the session's CSRF token.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NoReturn

from aiohttp import web

from modembridge.model import BridgeStatus, SignalSample
from modembridge.model.wire import to_wire

from ..auth import same_secret
from ..common import CONFIG, GATEWAY
from .session import COOKIE, Session, Sessions

if TYPE_CHECKING:
    import jinja2

log = logging.getLogger("modembridge.http.console")

SESSIONS = web.AppKey("console_sessions", Sessions)
CLOSING = web.AppKey("console_closing", asyncio.Event)  # set when the server shuts down: streams end
STREAMS = web.AppKey("console_streams", set)  # the open event streams
MAX_STREAMS = 16  # open consoles at a time (each holds a connection)
WRITE_TIMEOUT = 5.0  # seconds an event may take to go out before the stream is given up


class Templates:
    """The console's jinja2 environment, made when the first page is rendered: a daemon nobody opens the
    console of never imports jinja2 (about 2 MB of its memory)."""

    def __init__(self) -> None:
        self._env: jinja2.Environment | None = None

    def get_template(self, name: str) -> jinja2.Template:
        if self._env is None:
            self._env = environment()
        return self._env.get_template(name)


TEMPLATES = web.AppKey("console_templates", Templates)
HERE = Path(__file__).parent
EVENT_INTERVAL = 2.0  # seconds between live status updates
LIST_LIMIT = 50
FEED_SHOWN = 30  # feed lines on the overview (newest first)
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


def session_of(request: web.Request) -> Session | None:
    return request.app[SESSIONS].read(request.cookies.get(COOKIE))


def may_read(request: web.Request) -> tuple[bool, Session | None]:
    """(may see the status pages, the session): a session, or no status token set (an open console)."""
    session = session_of(request)
    return session is not None or not request.app[CONFIG].http.status_token, session


def may_read_messages(request: web.Request) -> tuple[bool, Session | None]:
    """(may see messages: their texts and numbers, the feed, the tester's conversation; the session): an
    admin session only, as the native API reads them only with the API token."""
    session = session_of(request)
    return session is not None and session.admin, session


def render(request: web.Request, name: str, http_status: int = 200, **values: Any) -> web.Response:
    page = request.app[TEMPLATES].get_template(name).render(**values)
    response = web.Response(text=page, status=http_status, content_type="text/html", charset="utf-8")
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def to_login() -> NoReturn:
    raise web.HTTPSeeOther("/ui/login")


def _status(request: web.Request, session: Session | None) -> BridgeStatus:
    status = request.app[GATEWAY].status()
    return status if session is not None else status.anonymous()


async def login_form(request: web.Request) -> web.Response:
    return render(request, "login.html", session=session_of(request), error=None)


async def login(request: web.Request) -> web.Response:
    form = await request.post()
    token = form.get("token")
    http = request.app[CONFIG].http
    role: Literal["admin", "read"] | None = None
    if isinstance(token, str) and token:
        if http.api_token and same_secret(token, http.api_token):
            role = "admin"
        elif http.status_token and same_secret(token, http.status_token):
            role = "read"
    if role is None:
        log.warning("console: a login with a wrong token from %s", request.remote)
        return render(request, "login.html", http_status=401, session=None, error="wrong token")
    _new, cookie = request.app[SESSIONS].issue(role)
    response = web.HTTPSeeOther("/ui/")
    response.set_cookie(COOKIE, cookie, httponly=True, samesite="Strict", path="/ui/",
                        secure=request.secure, max_age=12 * 3600)
    raise response


async def logout(request: web.Request) -> web.Response:
    session = session_of(request)
    form = await request.post()
    csrf = form.get("csrf")
    if not Sessions.csrf_ok(session, csrf if isinstance(csrf, str) else None):
        return render(request, "error.html", http_status=403, session=session,
                       message="the form is stale (CSRF check failed): reload the page")
    response = web.HTTPSeeOther("/ui/login")
    response.del_cookie(COOKIE, path="/ui/")
    raise response


async def overview(request: web.Request) -> web.Response:
    allowed, session = may_read(request)
    if not allowed:
        to_login()
    status = _status(request, session)
    ready, reason = request.app[GATEWAY].readiness()
    feed = list(reversed(request.app[GATEWAY].feed(0)))[:FEED_SHOWN] if session and session.admin else None
    return render(request, "overview.html", session=session, status=status, ready=ready, reason=reason,
                   feed=feed)


async def messages(request: web.Request) -> web.Response:
    allowed, session = may_read_messages(request)
    if not allowed:
        to_login()
    query = request.query.get("q", "").strip()[:100] or None
    state = request.query.get("state", "").strip()[:20] or None
    gateway = request.app[GATEWAY]
    found = {d: gateway.messages(direction=d, state=state, query=query, limit=LIST_LIMIT)
             for d in ("in", "out")}
    return render(request, "messages.html", session=session, query=query or "", state=state or "",
                   inbound=found["in"], outbound=found["out"])


async def message(request: web.Request) -> web.Response:
    allowed, session = may_read_messages(request)
    if not allowed:
        to_login()
    view = request.app[GATEWAY].message(request.match_info["id"])
    if view is None:
        return render(request, "error.html", http_status=404, session=session, message="no such message")
    cancellable = view.direction == "out" and any(p.state == "queued" for r in view.recipients
                                                   for p in r.parts)
    return render(request, "message.html", session=session, view=view, direction=view.direction,
                  cancellable=cancellable)


async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: ``status`` every EVENT_INTERVAL seconds (the overview's cards) and, for an admin
    session, ``feed`` as soon as something happens (an inbound message, a part sent or failed, a report).
    A stream ends with its session, when the server stops, or when the browser stops reading."""
    allowed, session = may_read(request)
    if not allowed:
        raise web.HTTPUnauthorized(text="log in at /ui/login")
    streams = request.app[STREAMS]
    if len(streams) >= MAX_STREAMS:
        raise web.HTTPServiceUnavailable(text="too many open consoles")
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store",
                                           "X-Content-Type-Options": "nosniff"})
    await response.prepare(request)
    closing, gateway = request.app[CLOSING], request.app[GATEWAY]
    feed = session is not None and session.admin
    loop = asyncio.get_running_loop()
    seen = 0
    streams.add(response)

    async def send(kind: str, data: str) -> None:
        await asyncio.wait_for(response.write(f"event: {kind}\ndata: {data}\n\n".encode()), WRITE_TIMEOUT)

    try:
        while not closing.is_set() and (session is None or session.expires > time.time()):
            await send("status", json.dumps(to_wire(_status(request, session)), separators=(",", ":")))
            next_status = loop.time() + EVENT_INTERVAL
            while not closing.is_set() and (left := next_status - loop.time()) > 0:
                news = gateway.feed_wait(seen, left) if feed else asyncio.sleep(left)
                waiting = asyncio.ensure_future(news)
                stop = asyncio.ensure_future(closing.wait())
                await asyncio.wait([waiting, stop], return_when=asyncio.FIRST_COMPLETED)
                waiting.cancel()
                stop.cancel()
                for event in gateway.feed(seen) if feed else ():
                    seen = event.seq
                    await send("feed", json.dumps(to_wire(event), separators=(",", ":"), ensure_ascii=False))
    except (ConnectionResetError, TimeoutError):  # the browser went away, or stopped reading
        pass
    finally:
        streams.discard(response)
    return response


async def admin_form(request: web.Request) -> tuple[Session, Mapping[str, str]] | web.Response:
    """An action's form: (the admin session, its text fields), or the 403 page when the session is not
    an admin's or the CSRF token is wrong."""
    session = session_of(request)
    form = await request.post()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    if session is None or not session.admin:
        return render(request, "error.html", http_status=403, session=session,
                       message="actions need a login with the API token")
    if not Sessions.csrf_ok(session, fields.get("csrf")):
        return render(request, "error.html", http_status=403, session=session,
                       message="the form is stale (CSRF check failed): reload the page")
    return session, fields


async def action(request: web.Request) -> web.Response:
    """POST /ui/messages/{id}/retry|cancel: an admin session and its CSRF token."""
    checked = await admin_form(request)
    if isinstance(checked, web.Response):
        return checked
    session, _fields = checked
    message_id, what = request.match_info["id"], request.match_info["action"]
    gateway = request.app[GATEWAY]
    done = await (gateway.retry(message_id) if what == "retry" else gateway.cancel(message_id))
    log.info("console: %s of message=%s: %s", what, message_id, "done" if done else "not possible")
    if not done:
        return render(request, "error.html", http_status=409, session=session,
                       message=f"{what} is not possible for this message in its state")
    raise web.HTTPSeeOther(f"/ui/messages/{message_id}")


async def to_console(request: web.Request) -> web.Response:
    raise web.HTTPPermanentRedirect("/ui/")


def environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["when"] = lambda value: value.isoformat(sep=" ", timespec="seconds") if value else "-"
    env.filters["sparkline"] = sparkline
    env.filters["age"] = lambda s: "-" if s is None else f"{s:.0f} s" if s < 120 else f"{s / 60:.0f} min"
    return env


def sparkline(samples: Sequence[SignalSample], width: int = 120, height: int = 24) -> str:
    """SVG polyline points for signal samples (dBm, -113 .. -51 from bottom to top), oldest left."""
    if not samples:
        return ""
    step = width / max(1, len(samples) - 1)
    def y(dbm: int) -> float:
        return height - (min(max(dbm, -113), -51) + 113) / 62 * height
    return " ".join(f"{i * step:.1f},{y(s.dbm):.1f}" for i, s in enumerate(samples))


async def _shutting_down(app: web.Application) -> None:
    """The server stops: end the event streams now (the daemon's stop would otherwise wait for them)."""
    app[CLOSING].set()


def add_routes(app: web.Application) -> None:
    app[SESSIONS] = Sessions()
    app[CLOSING] = asyncio.Event()
    app[STREAMS] = set()
    app.on_shutdown.append(_shutting_down)
    app[TEMPLATES] = Templates()
    app.router.add_get("/ui/", overview)
    app.router.add_get("/ui", to_console)
    app.router.add_get("/ui/login", login_form)
    app.router.add_post("/ui/login", login)
    app.router.add_post("/ui/logout", logout)
    app.router.add_get("/ui/messages", messages)
    app.router.add_get("/ui/messages/{id}", message)
    app.router.add_post("/ui/messages/{id}/{action:retry|cancel}", action)
    app.router.add_get("/ui/events", events)
    app.router.add_static("/ui/static/", HERE / "static", show_index=False)
