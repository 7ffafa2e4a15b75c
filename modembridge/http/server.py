"""The aiohttp application: native JSON API, Kannel-compatible sendsms, health, status and metrics.

Handlers validate everything (validate.py) before anything reaches ``gateway.submit``; the gateway
journals the request durably before the 202 is sent.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from aiohttp import web
from aiohttp.web_response import StreamResponse

from modembridge.config import Config
from modembridge.model import ClientIdConflict, FleetUnavailable, Gateway, SendAccepted, UnknownModemError
from modembridge.model.wire import to_wire
from modembridge.observe import CONTENT_TYPE, Metrics, number

from . import console, selftest, ussd
from .auth import kannel_ok
from .callbacks import CallbackPolicy
from .common import (
    BODY_TIMEOUT,
    CALLBACKS,
    CONFIG,
    GATEWAY,
    METRICS,
    BodyRefused,
    check_bearer,
    closing,
    json_error,
    native_denied,
    read_body,
)
from .validate import (
    Checked,
    RequestError,
    check_client_id,
    kannel_credentials,
    parse_form,
    parse_kannel,
    parse_native,
)

log = logging.getLogger("modembridge.http")


KANNEL_ACCEPTED = "0: Accepted for delivery"
KANNEL_AUTH_FAILED = "Authorization failed for sendsms"
KANNEL_TEMP_FAILURE = "Temporal failure, try again later."
_KANNEL_HEADER = "x-kannel-"
_FORM = "application/x-www-form-urlencoded"

Handler = Callable[[web.Request], Awaitable[StreamResponse]]


# -- helpers ----------------------------------------------------------------------------------------


def _kannel_answer(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=text, content_type="text/html")


def _accepted_json(accepted: SendAccepted) -> dict[str, Any]:
    return {
        "id": accepted.message_id,
        "recipients": list(accepted.recipients),
        "encoding": accepted.encoding,
        "parts": accepted.parts,
        "duplicate": accepted.duplicate,
    }


def _reject(request: web.Request, source: str, err: RequestError) -> None:
    request.app[METRICS].send_rejected(source, err.field)
    log.info("%s send rejected: field=%s: %s", source, err.field, err.message)


async def _submit(request: web.Request, checked: Checked) -> SendAccepted:
    return await request.app[GATEWAY].submit(checked.request)  # the bridge counts what it accepts


# -- native API ---------------------------------------------------------------------------------------


async def post_message(request: web.Request) -> web.Response:
    if (denied := native_denied(request)) is not None:
        return denied
    config = request.app[CONFIG].http
    try:
        raw = await read_body(request)
    except BodyRefused as refused:
        if refused.status == 408:
            return closing(json_error(408, "the body did not arrive in time"))
        return json_error(413, f"body larger than {config.max_body_bytes} bytes")
    try:
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            raise RequestError(None, f"body is not valid JSON: {str(exc)[:80]}") from exc
        checked = parse_native(body, request.headers.get("Idempotency-Key"),
                               request.app[GATEWAY].send_modem_ids(),
                               config.max_parts, request.app[CALLBACKS])
    except RequestError as err:
        _reject(request, "api", err)
        return json_error(err.status, err.message, err.field)
    try:
        accepted = await _submit(request, checked)
    except UnknownModemError as exc:
        return json_error(400, str(exc) or "unknown modem", "modem")
    except ClientIdConflict as exc:
        return web.json_response({"error": str(exc), "field": "id", "id": exc.message_id}, status=409)
    except FleetUnavailable as exc:
        log.warning("api send refused: %s", exc)
        return json_error(503, f"temporarily unable to accept messages (the fleet's queue: {exc}), try "
                          "again later")
    except Exception:
        log.exception("gateway.submit failed")
        return json_error(503, "temporarily unable to accept messages, try again later")
    answer = _accepted_json(accepted)
    return web.json_response(
        answer, status=202, headers={"Location": f"/api/v1/messages/{accepted.message_id}"}
    )


async def get_message(request: web.Request) -> web.Response:
    if (denied := native_denied(request)) is not None:
        return denied
    view = request.app[GATEWAY].message(request.match_info["id"])
    if view is None:
        return json_error(404, "unknown message", "id")
    return web.json_response(to_wire(view))


# -- Kannel sendsms -----------------------------------------------------------------------------------


def _header_fields(request: web.Request) -> dict[str, bytes]:
    """Kannel's ``X-Kannel-*`` headers (``X-Kannel-DLR-Mask`` -> ``dlr-mask``), as raw bytes."""
    out: dict[str, bytes] = {}
    for name, value in request.raw_headers:
        key = name.decode("latin-1").lower()
        if key.startswith(_KANNEL_HEADER):
            out.setdefault(key[len(_KANNEL_HEADER) :], value)
    return out


def _auth_failed(request: web.Request, user: str | None) -> web.Response:
    log.warning("sendsms: authorization failed for user %r from %s", (user or "")[:32], request.remote)
    return _kannel_answer(403, KANNEL_AUTH_FAILED)


async def sendsms(request: web.Request) -> web.Response:
    """``GET``/``POST /cgi-bin/sendsms`` as Kannel's smsbox answers it.

    The raw query string and body are parsed here (not by aiohttp) because the text is in the request's
    ``charset``, not necessarily UTF-8.
    """
    config = request.app[CONFIG].http
    raw_query = request.raw_path.partition("?")[2].encode("utf-8", "surrogateescape")
    fields = parse_form(raw_query)
    if request.method == "POST":
        if "password" in fields or "pass" in fields:  # credentials in the query: checked before the body
            user, password = kannel_credentials(fields)
            if not kannel_ok(user, password, config.kannel):
                return _auth_failed(request, user)
        try:
            body = await read_body(request)
        except BodyRefused as refused:
            if refused.status == 408:
                return closing(_kannel_answer(408, "Request timeout, rejected"))
            return _kannel_answer(413, "Request too large, rejected")
        ctype = request.content_type
        if ctype == _FORM:
            fields = {**fields, **parse_form(body)}
            if request.charset and "charset" not in fields:
                fields["charset"] = request.charset.encode("latin-1", "replace")
        elif ctype in ("text/plain", "application/octet-stream") and body:
            # Kannel's own POST flavour: parameters in X-Kannel-* headers, the text is the body
            fields = {**fields, **_header_fields(request), "text": body}
            if request.charset:
                fields["charset"] = request.charset.encode("latin-1", "replace")
        elif body:
            return _kannel_answer(400, "Invalid content-type")
    user, password = kannel_credentials(fields)
    if not kannel_ok(user, password, config.kannel):
        return _auth_failed(request, user)
    try:
        checked, denied = parse_kannel(fields, request.app[GATEWAY].send_modem_ids(), config.max_parts,
                                       request.app[CALLBACKS])
    except RequestError as err:
        _reject(request, "kannel", err)
        return _kannel_answer(err.status, err.kannel)
    key = request.headers.get("Idempotency-Key")
    if key is not None:  # not Kannel's, but as useful here as on the native API
        try:
            client_id = check_client_id(key, "Idempotency-Key")
            checked = replace(checked, request=replace(checked.request, client_id=client_id))
        except RequestError:
            return _kannel_answer(400, "Idempotency-Key field misformed, rejected")
    if denied:
        log.warning("sendsms: dropped %d invalid receiver(s): %s", len(denied),
                    " ".join(number(d) for d in denied))
    try:
        await _submit(request, checked)
    except UnknownModemError:
        return _kannel_answer(400, "Not routable. Do not try again.")
    except ClientIdConflict as exc:
        return _kannel_answer(409, f"Idempotency-Key already used for message {exc.message_id} with other "
                              "content, rejected")
    except FleetUnavailable as exc:
        log.warning("sendsms refused: %s", exc)
        return _kannel_answer(503, KANNEL_TEMP_FAILURE)
    except Exception:
        log.exception("gateway.submit failed")
        return _kannel_answer(503, KANNEL_TEMP_FAILURE)
    return _kannel_answer(202, KANNEL_ACCEPTED)


# -- operations ---------------------------------------------------------------------------------------


async def healthz(request: web.Request) -> web.Response:
    """Liveness: 200 whenever the loop answers. The text says what the process last waited on (a frozen
    disk blocks the loop, so a probe that timed out then learns why here)."""
    return web.Response(text=request.app[GATEWAY].liveness())


async def readyz(request: web.Request) -> web.Response:
    try:
        ready, reason = request.app[GATEWAY].readiness()
    except Exception as exc:
        log.exception("readiness() failed")
        ready, reason = False, f"readiness check failed: {type(exc).__name__}"
    return web.Response(status=200 if ready else 503, text=reason or ("ready" if ready else "not ready"))


def _status_guard(request: web.Request) -> web.Response | None:
    token = request.app[CONFIG].http.status_token
    return check_bearer(request, token) if token else None


async def status(request: web.Request) -> web.Response:
    denied = _status_guard(request)
    if denied is not None:
        return denied
    gateway, anonymous = request.app[GATEWAY], not request.app[CONFIG].http.status_token
    if request.query.get("fleet", "") not in ("", "0"):
        try:
            view = await gateway.fleet_view()
        except FleetUnavailable as exc:
            return json_error(503, f"the fleet's view is unavailable: {exc}")
        if view is None:
            return json_error(404, "fleet mode is off on this host (no [fleet] redis_url)")
        if anonymous:  # open: no IMEI, IMSI or ICCID of any host for anyone who asks
            view = view.anonymous()
        return web.json_response(to_wire(view))
    status = gateway.status()
    if anonymous:  # open: no IMEI, IMSI or ICCID for anyone who asks
        status = status.anonymous()
    return web.json_response(to_wire(status))


async def metrics(request: web.Request) -> web.Response:
    denied = _status_guard(request)
    if denied is not None:
        return denied
    resp = web.Response(body=request.app[METRICS].render())
    resp.headers["Content-Type"] = CONTENT_TYPE
    return resp


@web.middleware
async def _count_requests(request: web.Request, handler: Handler) -> StreamResponse:
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else "unmatched"
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        request.app[METRICS].http_request(route, exc.status)
        raise
    request.app[METRICS].http_request(route, response.status)
    return response


def create_app(config: Config, gateway: Gateway, metrics_: Metrics) -> web.Application:
    """The web application. `metrics_` gets its queue/modem gauges bound to ``gateway.status``."""
    app = web.Application(client_max_size=config.http.max_body_bytes, middlewares=[_count_requests])
    app[CONFIG] = config
    app[CALLBACKS] = CallbackPolicy.from_config(config)
    app[BODY_TIMEOUT] = 30.0  # start_server sets its idle timeout here
    app[GATEWAY] = gateway
    app[METRICS] = metrics_
    metrics_.bind_status(gateway.status)
    app.router.add_post("/api/v1/messages", post_message)
    app.router.add_get("/api/v1/messages/{id}", get_message)
    app.router.add_route("GET", "/cgi-bin/sendsms", sendsms)
    app.router.add_route("POST", "/cgi-bin/sendsms", sendsms)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/status", status)
    app.router.add_get("/metrics", metrics)
    ussd.add_routes(app)
    selftest.add_routes(app)
    console.add_routes(app)
    return app
