"""``POST /api/v1/modems/{id}/ussd`` (a code, or a menu answer in a session) and ``DELETE`` (end the
session): the native API's bearer token, one session per modem, answers as the network gave them."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from modembridge.model import UnknownModemError, UssdBusy, UssdNoSession, UssdReply, UssdUnavailable
from modembridge.sms import MAX_USSD, valid_code

from .common import GATEWAY, json_error, json_object, modem_denied

log = logging.getLogger("modembridge.http")


def _reply(reply: UssdReply) -> web.Response:
    body = {"status": reply.status, "text": reply.text, "session": reply.session}
    return web.json_response(body, status=504 if reply.status == "timeout" else 200)


def _fields(body: dict[str, Any]) -> tuple[str, str | None] | web.Response:
    """The code and the session of a request, or the 400 that says what is wrong with them."""
    code, session = body.get("code"), body.get("session")
    if not isinstance(code, str) or not valid_code(code):
        return json_error(400, f"code must be 1-{MAX_USSD} of 0-9 * # + (e.g. \"*100#\", or \"1\" in a menu)",
                          "code")
    if session is not None and (not isinstance(session, str) or not 0 < len(session) <= 64):
        return json_error(400, "session must be the id a \"more\" answer gave", "session")
    return code, session


async def post_ussd(request: web.Request) -> web.StreamResponse:
    modem_id, denied = modem_denied(request)
    if denied is not None:
        return denied
    body = await json_object(request)
    if isinstance(body, web.Response):
        return body
    fields = _fields(body)
    if isinstance(fields, web.Response):
        return fields
    code, session = fields
    try:
        reply = await request.app[GATEWAY].ussd(modem_id, code, session)
    except UnknownModemError as exc:
        return json_error(404, str(exc), "id")
    except UssdBusy as exc:
        return json_error(409, str(exc))
    except UssdNoSession as exc:
        return json_error(404, str(exc), "session")
    except UssdUnavailable as exc:
        return json_error(503, str(exc))
    except ValueError as exc:
        return json_error(400, str(exc), "code")
    log.info("ussd modem=%s code=%s: %s", modem_id, "(menu answer)" if session else code, reply.status)
    return _reply(reply)


async def delete_ussd(request: web.Request) -> web.StreamResponse:
    modem_id, denied = modem_denied(request)
    if denied is not None:
        return denied
    try:
        cancelled = await request.app[GATEWAY].ussd_cancel(modem_id)
    except UssdUnavailable as exc:
        return json_error(503, str(exc))
    if not cancelled:
        return json_error(404, f"no open USSD session on modem {modem_id}", "session")
    return web.json_response({"status": "cancelled"})


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/modems/{id}/ussd", post_ussd)
    app.router.add_delete("/api/v1/modems/{id}/ussd", delete_ussd)
