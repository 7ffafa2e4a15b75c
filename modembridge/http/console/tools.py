"""The console's tools: compose (a real SMS, with the parts counter computed by the same codec the sender
uses) and the USSD console (a code, then the menu's answers). Both are actions: an admin session and
its CSRF token."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from modembridge.model import ModemAction, UnknownModemError, UssdBusy, UssdNoSession, UssdUnavailable
from modembridge.sms import PduError, segment_info, valid_code

from ..common import CALLBACKS, CONFIG, GATEWAY
from ..validate import RequestError, parse_native
from .pages import admin_form, may_read, render, to_login

MAX_COUNTED = 10_000  # characters the parts counter looks at
ACTIONS: dict[str, ModemAction] = {"pause": "pause", "resume": "resume", "reinit": "reinit", "reset": "reset"}


async def segments(request: web.Request) -> web.Response:
    """GET /ui/segments?text=: how the text would be sent (encoding, parts, units left in the last)."""
    allowed, _session = may_read(request)
    if not allowed:
        raise web.HTTPUnauthorized(text="log in at /ui/login")
    text = request.query.get("text", "")[:MAX_COUNTED]
    try:
        info = segment_info(text)
    except PduError as exc:
        return web.json_response({"error": str(exc)}, status=400)
    return web.json_response({"encoding": info.encoding, "parts": info.parts, "units": info.units,
                              "per_part": info.per_part, "remaining": info.remaining_in_last_part})


async def compose_form(request: web.Request) -> web.Response:
    allowed, session = may_read(request)
    if not allowed:
        to_login()
    return render(request, "compose.html", session=session, modems=request.app[GATEWAY].send_modem_ids(),
                  error=None, values={})


async def compose(request: web.Request) -> web.Response:
    checked = await admin_form(request)
    if isinstance(checked, web.Response):
        return checked
    session, form = checked
    gateway = request.app[GATEWAY]
    body: dict[str, Any] = {"to": [form.get("to", "")], "text": form.get("text", "")}
    if form.get("modem"):
        body["modem"] = form["modem"]
    try:  # the native API's own checks: one set of rules for every way in
        request_ = parse_native(body, None, gateway.send_modem_ids(), request.app[CONFIG].http.max_parts,
                                request.app[CALLBACKS]).request
        accepted = await gateway.submit(request_)
    except (RequestError, UnknownModemError) as exc:
        message = exc.message if isinstance(exc, RequestError) else str(exc)
        return render(request, "compose.html", http_status=400, session=session,
                      modems=gateway.send_modem_ids(),
                      error=message, values=form)
    raise web.HTTPSeeOther(f"/ui/messages/{accepted.message_id}")


async def ussd_page(request: web.Request) -> web.Response:
    allowed, session = may_read(request)
    if not allowed:
        to_login()
    modem_id = request.match_info["id"]
    if modem_id not in request.app[GATEWAY].modem_ids():
        return render(request, "error.html", http_status=404, session=session, message="no such modem")
    return render(request, "ussd.html", session=session, modem_id=modem_id, reply=None, error=None, code="")


async def ussd(request: web.Request) -> web.Response:
    checked = await admin_form(request)
    if isinstance(checked, web.Response):
        return checked
    session, form = checked
    modem_id, code = request.match_info["id"], form.get("code", "").strip()
    sid = form.get("session") or None
    page: dict[str, Any] = {"session": session, "modem_id": modem_id, "code": code, "reply": None,
                            "error": None}
    if form.get("cancel"):
        await request.app[GATEWAY].ussd_cancel(modem_id)
        return render(request, "ussd.html", **page)
    if not valid_code(code):
        return render(request, "ussd.html", http_status=400, **(page | {"error": "a code is 0-9 * # + only"}))
    try:
        page["reply"] = await request.app[GATEWAY].ussd(modem_id, code, sid)
    except (UnknownModemError, UssdBusy, UssdNoSession, UssdUnavailable, ValueError) as exc:
        return render(request, "ussd.html", http_status=409, **(page | {"error": str(exc)}))
    return render(request, "ussd.html", **page)


async def modem_action(request: web.Request) -> web.Response:
    """POST /ui/modems/{id}/pause|resume|reinit|reset (an admin session and its CSRF token)."""
    checked = await admin_form(request)
    if isinstance(checked, web.Response):
        return checked
    session, _form = checked
    action = ACTIONS[request.match_info["action"]]
    try:
        await request.app[GATEWAY].modem_action(request.match_info["id"], action)
    except UnknownModemError as exc:
        return render(request, "error.html", http_status=404, session=session, message=str(exc))
    except ValueError as exc:  # not now (the modem is recovering)
        return render(request, "error.html", http_status=409, session=session, message=str(exc))
    raise web.HTTPSeeOther("/ui/")


def add_routes(app: web.Application) -> None:
    app.router.add_post("/ui/modems/{id}/{action:pause|resume|reinit|reset}", modem_action)
    app.router.add_get("/ui/segments", segments)
    app.router.add_get("/ui/compose", compose_form)
    app.router.add_post("/ui/compose", compose)
    app.router.add_get("/ui/modems/{id}/ussd", ussd_page)
    app.router.add_post("/ui/modems/{id}/ussd", ussd)
