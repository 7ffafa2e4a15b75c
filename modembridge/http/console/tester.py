"""The tester (the successor of RapidSMS's httptester): a phone panel that sends an SMS *into* the
simulated network from a number you choose, through the simulator's control API ([[modem]] sim_control,
loopback only), and shows the conversation: what that number sent, and what the site sent back."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from modembridge.model import InboundSummary, MessageSummary
from modembridge.model.wire import to_wire

from ..common import CONFIG, GATEWAY
from ..validate import normalize_number
from .pages import admin_form, may_read_messages, render, to_login

CLIENT = web.AppKey("console_sim_client", aiohttp.ClientSession)
MAX_TEXT = 1000  # characters a tester message may have (split into parts by the simulator's codec)


def _simulated(request: web.Request) -> dict[str, str]:
    """modem id -> its simulator's control URL, for the modems that are simulated."""
    return {m.id: m.sim_control for m in request.app[CONFIG].modems if m.sim_control}


def _conversation(request: web.Request, number: str) -> list[dict[str, Any]]:
    gateway = request.app[GATEWAY]
    found: list[MessageSummary] = [m for m in gateway.messages(direction="in", state=None, query=number,
                                                               limit=20)
                                   if isinstance(m, InboundSummary) and m.sender == number]
    for m in gateway.messages(direction="out", state=None, query=number, limit=20):
        view = gateway.message(m.id)  # the search also finds texts that quote the number: keep this number's
        if view is not None and view.direction == "out" and any(r.number == number for r in view.recipients):
            found.append(m)
    lines = []
    for m in found:
        at = m.received_at if isinstance(m, InboundSummary) else m.created_at
        lines.append({"who": "phone" if m.direction == "in" else "site", "at": to_wire(at), "text": m.text,
                      "state": m.state, "id": m.id})
    return sorted(lines, key=lambda line: str(line["at"]))


async def tester(request: web.Request) -> web.Response:
    allowed, session = may_read_messages(request)
    if not allowed:
        to_login()
    number = normalize_number(request.query.get("number", "")) or ""
    return render(request, "tester.html", session=session, sims=_simulated(request), number=number,
                  modem=request.query.get("modem", ""), conversation=_conversation(request, number) if number
                  else [], error=None)


async def replies(request: web.Request) -> web.Response:
    allowed, _session = may_read_messages(request)
    if not allowed:
        raise web.HTTPUnauthorized(text="log in at /ui/login")
    number = normalize_number(request.query.get("number", ""))
    return web.json_response(_conversation(request, number) if number else [])


async def inject(request: web.Request) -> web.Response:
    checked = await admin_form(request)
    if isinstance(checked, web.Response):
        return checked
    session, form = checked
    sims = _simulated(request)
    number = normalize_number(form.get("number", ""))
    text, modem = form.get("text", ""), form.get("modem", "")
    error = None
    if modem not in sims:
        error = "choose a simulated modem (one with sim_control)"
    elif number is None:
        error = "the phone's number: + and 3-15 digits, or 3-20 digits"
    elif not text or len(text) > MAX_TEXT:
        error = f"a text of 1-{MAX_TEXT} characters"
    if error is None:
        try:
            body = {"sender": number, "text": text}
            async with request.app[CLIENT].post(f"{sims[modem]}/inject", json=body,
                                                timeout=aiohttp.ClientTimeout(total=10)) as resp:
                if resp.status != 200:
                    error = f"the simulator refused it: HTTP {resp.status} {(await resp.text())[:200]}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = f"the simulator at {sims[modem]} does not answer: {type(exc).__name__}"
    if error is not None:
        return render(request, "tester.html", http_status=400, session=session, sims=sims,
                      number=number or "", modem=modem, conversation=[], error=error)
    raise web.HTTPSeeOther(f"/ui/tester?{urlencode({'number': number, 'modem': modem})}")


async def _client(app: web.Application) -> Any:
    app[CLIENT] = aiohttp.ClientSession()
    yield
    await app[CLIENT].close()


def add_routes(app: web.Application) -> None:
    app.cleanup_ctx.append(_client)
    app.router.add_get("/ui/tester", tester)
    app.router.add_post("/ui/tester", inject)
    app.router.add_get("/ui/tester/replies", replies)
