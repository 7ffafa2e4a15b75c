"""``POST /api/v1/modems/{id}/selftest``: the loopback self-test (an SMS to the modem's own SIM, timed),
with the native API's bearer token. Body (optional): ``{"to": "<number>", "timeout": <seconds>}``."""

from __future__ import annotations

from aiohttp import web

from modembridge.model import UnknownModemError
from modembridge.model.wire import to_wire

from .common import GATEWAY, json_error, json_object, modem_denied
from .validate import normalize_number

DEFAULT_TIMEOUT = 120.0
MAX_TIMEOUT = 600.0


async def post_selftest(request: web.Request) -> web.StreamResponse:
    modem_id, denied = modem_denied(request)
    if denied is not None:
        return denied
    body = await json_object(request, empty_ok=True)
    if isinstance(body, web.Response):
        return body
    raw_to = body.get("to")
    to = normalize_number(raw_to) if isinstance(raw_to, str) else None
    if raw_to is not None and to is None:
        return json_error(400, "to must be a phone number (+<digits>, or national digits)", "to")
    timeout = body.get("timeout", DEFAULT_TIMEOUT)
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or not 0 < timeout <= MAX_TIMEOUT:
        return json_error(400, f"timeout must be 1-{MAX_TIMEOUT:g} seconds", "timeout")
    try:
        result = await request.app[GATEWAY].selftest(modem_id, to, float(timeout))
    except UnknownModemError as exc:
        return json_error(404, str(exc), "id")
    except ValueError as exc:
        return json_error(400, str(exc), "to")
    answer = to_wire(result)
    assert isinstance(answer, dict)
    return web.json_response({**answer, "ok": result.ok})


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/modems/{id}/selftest", post_selftest)
