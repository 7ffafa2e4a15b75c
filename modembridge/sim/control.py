"""The simulator's HTTP control API (JSON, loopback only): inject, inspect, and inject faults."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from modembridge.sim.harness import SimModem

SIM_KEY: web.AppKey[SimModem] = web.AppKey("sim")


def _sim(request: web.Request) -> SimModem:
    return request.app[SIM_KEY]


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        data = await request.json()
    except json.JSONDecodeError as exc:
        raise web.HTTPBadRequest(text=f"invalid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text="expected a JSON object")
    return data


def _ok(**extra: Any) -> web.Response:
    return web.json_response({"ok": True, **extra})


async def status(request: web.Request) -> web.Response:
    return web.json_response(_sim(request).status())


async def inject(request: web.Request) -> web.Response:
    sim, body = _sim(request), await _body(request)
    if "pdu" in body:
        kind = body.get("kind", "deliver")
        if kind not in ("deliver", "report"):
            raise web.HTTPBadRequest(text="kind must be deliver or report")
        try:
            sim.inject_pdu(str(body["pdu"]), kind=kind, delay=float(body.get("delay", 0.0)))
        except (ValueError, TypeError) as exc:
            raise web.HTTPBadRequest(text=f"bad pdu: {exc}") from None
        return _ok(pdus=[body["pdu"]])
    if "sender" not in body or ("text" not in body and "data_hex" not in body):
        raise web.HTTPBadRequest(text="need {sender, text} or {sender, data_hex} or {pdu}")
    kw: dict[str, Any] = {k: body[k] for k in ("encoding", "flash", "concat_ref", "ref_bits", "smsc", "gap",
                                               "pid", "dcs", "parts") if k in body}
    try:
        if "delay" in body:  # seconds before the network delivers the first part
            kw["delay"] = float(body["delay"])
        if "data_hex" in body:
            kw["data"] = bytes.fromhex(body["data_hex"])
        if "timestamp" in body:  # ISO 8601 with its offset: the TP-SCTS of every part
            kw["timestamp"] = datetime.fromisoformat(str(body["timestamp"]))
            if kw["timestamp"].tzinfo is None:
                raise ValueError("timestamp needs a UTC offset")
        if "ports" in body:  # [destination, source]
            kw["ports"] = tuple(int(p) for p in body["ports"])
    except (ValueError, TypeError) as exc:
        raise web.HTTPBadRequest(text=f"bad inject field: {exc}") from None
    try:
        pdus = await sim.inject_text(str(body["sender"]), body.get("text"), **kw)
    except ValueError as exc:  # PduError is a ValueError
        raise web.HTTPBadRequest(text=str(exc)) from None
    return _ok(pdus=pdus)


async def submitted(request: web.Request) -> web.Response:
    """?wait=N&timeout=S long-polls until N messages were submitted (408 on timeout)."""
    sim = _sim(request)
    if "wait" in request.query:
        try:
            await sim.wait_submitted(int(request.query["wait"]), float(request.query.get("timeout", "5")))
        except TimeoutError:
            raise web.HTTPRequestTimeout(text=json.dumps(sim.submitted()),
                                         content_type="application/json") from None
    return web.json_response(sim.submitted())


async def clear_submitted(request: web.Request) -> web.Response:
    _sim(request).clear_submitted()
    return _ok()


async def storage(request: web.Request) -> web.Response:
    return web.json_response(_sim(request).storage())


async def traffic(request: web.Request) -> web.Response:
    return web.json_response(_sim(request).traffic())


async def clear_traffic(request: web.Request) -> web.Response:
    _sim(request).clear_traffic()
    return _ok()


async def unreachable(request: web.Request) -> web.Response:
    body = await _body(request)
    if "number" not in body:
        raise web.HTTPBadRequest(text="need {number}")
    status_ = body.get("status", 0x41) if request.method == "POST" else None
    _sim(request).set_unreachable(str(body["number"]), status_)
    return _ok()


async def call(request: web.Request) -> web.Response:
    """POST {"from": number}: a voice call rings; GET: the calls so far (rings, when hung up)."""
    sim = _sim(request)
    if request.method == "POST":
        body = await _body(request)
        if not isinstance(body.get("from"), str) or not body["from"]:
            raise web.HTTPBadRequest(text="need {from}")
        sim.call(body["from"])
        return _ok()
    return web.json_response(sim.calls())


async def network(request: web.Request) -> web.Response:
    sim, body = _sim(request), await _body(request)
    if "registration" in body:
        sim.set_registration(int(body["registration"]))
    if "rssi" in body:
        sim.set_signal(int(body["rssi"]))
    if "balance" in body:  # what the USSD balance services answer
        sim.set_balance(str(body["balance"]))
    if "ussd_silent" in body:  # the network answers no USSD at all
        sim.set_ussd_silent(bool(body["ussd_silent"]))
    return _ok()


async def fault(request: web.Request) -> web.Response:
    sim, body, name = _sim(request), await _body(request), request.match_info["name"]
    if name == "hang":
        sim.set_hang(bool(body.get("on", True)))
    elif name == "wedge":
        sim.set_wedged(bool(body.get("on", True)))
    elif name == "send-error":
        cms = body.get("cms")
        sim.fail_sends(int(body.get("count", 1)), int(cms) if cms is not None else None, body.get("result"))
    elif name == "sim-full":
        sim.set_sim_full(bool(body.get("on", True)))
    elif name == "garbage":
        return _ok(hex=sim.garbage(int(body.get("bytes", 16))).hex())
    elif name == "hold-reports":  # {"on": true} holds; {"on": false, "release": "shuffle"} releases
        if body.get("on", True):
            sim.hold_reports(True)
        else:
            order = body.get("release", "sent")
            if order not in ("sent", "reverse", "shuffle"):
                raise web.HTTPBadRequest(text="release must be sent, reverse or shuffle")
            return _ok(released=sim.release_reports(order))
    elif name == "restart":
        sim.restart()
    elif name == "vanish":
        await sim.vanish(float(body.get("seconds", 1.0)))
    else:
        raise web.HTTPNotFound(text=f"unknown fault {name!r}")
    return _ok()


def make_app(sim: SimModem) -> web.Application:
    app = web.Application()
    app[SIM_KEY] = sim
    app.router.add_get("/status", status)
    app.router.add_post("/inject", inject)
    app.router.add_get("/submitted", submitted)
    app.router.add_delete("/submitted", clear_submitted)
    app.router.add_get("/storage", storage)
    app.router.add_get("/traffic", traffic)
    app.router.add_delete("/traffic", clear_traffic)
    app.router.add_post("/unreachable", unreachable)
    app.router.add_delete("/unreachable", unreachable)
    app.router.add_post("/network", network)
    app.router.add_post("/call", call)
    app.router.add_get("/call", call)
    app.router.add_post("/fault/{name}", fault)
    return app


async def start_control(sim: SimModem, host: str, port: int) -> tuple[web.AppRunner, str]:
    """Serve the control API; returns the runner (cleanup() to stop) and the base URL with the real port."""
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError("the control API binds to loopback only")
    runner = web.AppRunner(make_app(sim), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    real_port = int(runner.addresses[0][1])
    return runner, f"http://{host}:{real_port}"
