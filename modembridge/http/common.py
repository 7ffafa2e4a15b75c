"""What the request handlers share: the application's keys, JSON errors, bearer checks, body reading."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from modembridge.config import Config
from modembridge.model import Gateway
from modembridge.observe import Metrics

from .auth import bearer_ok
from .callbacks import CallbackPolicy

CONFIG = web.AppKey("config", Config)
CALLBACKS = web.AppKey("callbacks", CallbackPolicy)
BODY_TIMEOUT = web.AppKey("body_timeout", float)  # seconds a request body may take to arrive
GATEWAY = web.AppKey("gateway", Gateway)
METRICS = web.AppKey("metrics", Metrics)


def json_error(status: int, error: str, field: str | None = None, **headers: str) -> web.Response:
    return web.json_response({"error": error, "field": field}, status=status, headers=headers or None)


def unauthorized() -> web.Response:
    return json_error(
        401, "missing or wrong bearer token", None, **{"WWW-Authenticate": 'Bearer realm="modembridge"'}
    )


def check_bearer(request: web.Request, token: str) -> web.Response | None:
    if not bearer_ok(request.headers.get("Authorization"), token):
        return unauthorized()
    return None


def closing(response: web.Response) -> web.Response:
    """Close the connection after this answer (the rest of a trickling body is not waited for)."""
    response.force_close()
    return response


class BodyRefused(Exception):
    """The body is too large, or did not arrive within the body timeout."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status  # 413 or 408


async def read_body(request: web.Request) -> bytes:
    """The body; BodyRefused(413) when it exceeds client_max_size, BodyRefused(408) when it takes longer
    than the body timeout (a client that trickles a body must not hold a connection for ever)."""
    try:
        async with asyncio.timeout(request.app[BODY_TIMEOUT]):
            return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise BodyRefused(413) from None
    except TimeoutError:
        raise BodyRefused(408) from None


def native_denied(request: web.Request) -> web.Response | None:
    """The native API's gate: disabled without a token, 401 without the right bearer token."""
    token = request.app[CONFIG].http.api_token
    if not token:
        return json_error(403, "native API disabled: set http.api_token")
    return check_bearer(request, token)




def modem_denied(request: web.Request) -> tuple[str, web.Response | None]:
    """A per-modem action of the native API (``/api/v1/modems/{id}/...``): the modem id, and the answer
    when the token is wrong or the modem unknown (None: go ahead)."""
    modem_id = request.match_info["id"]
    if (denied := native_denied(request)) is not None:
        return modem_id, denied
    if modem_id not in request.app[GATEWAY].modem_ids():
        return modem_id, json_error(404, f"unknown modem {modem_id!r}", "id")
    return modem_id, None


async def json_object(request: web.Request, *, empty_ok: bool = False) -> dict[str, Any] | web.Response:
    """The request body as a JSON object, or the 4xx that says why not (`empty_ok`: no body is {})."""
    try:
        raw = await read_body(request)
    except BodyRefused as refused:
        return json_error(refused.status, "body too large or too slow")
    if empty_ok and not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        return json_error(400, "body is not valid JSON")
    if not isinstance(body, dict):
        return json_error(400, "body must be a JSON object")
    return body
