"""The web console under /ui/ on the real app and the real bridge with a simulated modem on a pty: login
and session cookie, CSRF, hostile message texts escaped, search, one message's story, live events."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from modembridge.config import HttpConfig
from modembridge.http import create_app
from modembridge.http.console.session import COOKIE, Sessions
from modembridge.model import SendRequest

from .conftest import Stack, journalled, wait_until

API, STATUS = "console-api-token-0123456789", "console-status-token-0123456789"
HOSTILE = ["<script>alert(1)</script>", "\u202eevil.exe\u202c", "w" * 600, "emoji 😀 ok", '" onmouseover="x']


async def console(stack: Stack, aiohttp_client: Any, **http: Any) -> TestClient[Any, Any]:
    tokens = {"api_token": API, "status_token": STATUS} | http
    config = replace(stack.config, http=HttpConfig(**tokens))
    return await aiohttp_client(create_app(config, stack.bridge, stack.bridge.metrics))


async def login(client: TestClient[Any, Any], token: str) -> None:
    resp = await client.post("/ui/login", data={"token": token}, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/ui/"
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/ui/" in cookie
    assert token not in cookie and token not in resp.headers["Location"]  # no token in a cookie or URL


def csrf_of(page: str) -> str:
    marker = 'name="csrf" value="'
    return page.split(marker, 1)[1].split('"', 1)[0]


async def test_pages_need_a_login_when_a_status_token_is_set(make_stack: Any, aiohttp_client: Any) -> None:
    stack: Stack = await make_stack()
    await stack.wait_ready()
    client = await console(stack, aiohttp_client)
    resp = await client.get("/ui/", allow_redirects=False)
    assert (resp.status, resp.headers["Location"]) == (303, "/ui/login")
    assert (await client.get("/ui/events")).status == 401
    resp = await client.post("/ui/login", data={"token": "wrong"}, allow_redirects=False)
    assert resp.status == 401 and "wrong token" in await resp.text()
    client.session.cookie_jar.update_cookies({COOKIE: "admin.9999999999.x.forged"})
    assert (await client.get("/ui/", allow_redirects=False)).status == 303  # a forged cookie is nothing
    await login(client, STATUS)
    resp = await client.get("/ui/")
    page = await resp.text()
    assert resp.status == 200 and 'data-modem="gsm0"' in page and "read-only" in page
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]


async def test_hostile_texts_are_escaped_everywhere(make_stack: Any, aiohttp_client: Any) -> None:
    stack: Stack = await make_stack()
    await stack.wait_ready()
    for i, text in enumerate(HOSTILE):
        await stack.sim.inject_text(f"+25471100070{i}", text)
    await stack.router.wait(lambda: len(stack.router.delivered()) == len(HOSTILE))
    await stack.bridge.submit(SendRequest(recipients=("+254711000799",), text="<img src=x onerror=alert(1)>"))
    client = await console(stack, aiohttp_client)
    await login(client, STATUS)
    resp = await client.get("/ui/messages", allow_redirects=False)
    assert resp.status == 303  # the status token shows the status, not the messages (as the API)
    await login(client, API)
    page = await (await client.get("/ui/messages")).text()
    for raw in ("<script>alert(1)</script>", "<img src=x", '" onmouseover="x'):
        assert raw not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "emoji 😀 ok" in page and "w" * 600 in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    [hostile] = [m for m in stack.store.views.recent(direction="in", state=None, limit=10)
                 if m.text == HOSTILE[0]]
    story = await (await client.get(f"/ui/messages/{hostile.id}")).text()
    assert "<script>alert" not in story and "&lt;script&gt;" in story and "read from gsm0" in story


async def test_search_and_a_message_story(make_stack: Any, aiohttp_client: Any) -> None:
    stack: Stack = await make_stack(sim_kw={"report_delay": 0.05})
    await stack.wait_ready()
    await stack.sim.inject_text("+254711000801", "find me please")
    await stack.sim.inject_text("+254711000802", "not this one")
    await stack.router.wait(lambda: len(stack.router.delivered()) == 2)
    sent = await stack.bridge.submit(SendRequest(recipients=("+254711000803",), text="outbound with report",
                                                 status_report=True))
    await wait_until(lambda: stack.store.views.outbound(sent.message_id).delivery == "delivered")
    client = await console(stack, aiohttp_client, status_token="")  # an open console ...
    resp = await client.get("/ui/messages", allow_redirects=False)
    assert resp.status == 303  # ... shows no messages without an admin login
    assert (await client.get(f"/ui/messages/{sent.message_id}", allow_redirects=False)).status == 303
    await login(client, API)
    page = await (await client.get("/ui/messages", params={"q": "find me"})).text()
    assert "find me please" in page and "not this one" not in page
    page = await (await client.get("/ui/messages", params={"q": "0803"})).text()
    assert "outbound with report" in page and "find me please" not in page
    story = await (await client.get(f"/ui/messages/{sent.message_id}")).text()
    assert "+254711000803" in story and "delivered" in story and "via api" in story
    assert (await client.get("/ui/messages/nope")).status == 404


async def test_logout_needs_the_csrf_token(make_stack: Any, aiohttp_client: Any) -> None:
    stack: Stack = await make_stack()
    await stack.wait_ready()
    client = await console(stack, aiohttp_client)
    await login(client, API)
    page = await (await client.get("/ui/")).text()
    assert "admin" in page
    resp = await client.post("/ui/logout", data={"csrf": "guess"}, allow_redirects=False)
    assert resp.status == 403
    assert (await client.get("/ui/", allow_redirects=False)).status == 200  # still logged in
    resp = await client.post("/ui/logout", data={"csrf": csrf_of(page)}, allow_redirects=False)
    assert resp.status == 303
    assert (await client.get("/ui/", allow_redirects=False)).status == 303


async def test_the_overview_updates_live_over_server_sent_events(make_stack: Any,
                                                                 aiohttp_client: Any) -> None:
    stack: Stack = await make_stack()
    await stack.wait_ready()
    client = await console(stack, aiohttp_client, status_token="")
    resp = await client.get("/ui/events")
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/event-stream")
    event = b""
    while b"\n\n" not in event:
        event += await resp.content.readany()
    head, _, data = event.decode().partition("data: ")
    assert head.startswith("event: status")
    status = json.loads(data.split("\n", 1)[0])
    assert status["modems"]["gsm0"]["state"] == "ready"
    assert status["modems"]["gsm0"]["info"]["imei"] is None  # an open console shows no identifiers
    resp.close()
    script = await (await client.get("/ui/static/console.js")).text()
    assert "textContent" in script and "innerHTML" not in script


@pytest.mark.parametrize("cookie", ["", "x" * 300, "read.1.c.0", "admin.notanumber.c.abc"])
def test_a_bad_cookie_is_no_session(cookie: str) -> None:
    sessions = Sessions(key=b"k" * 32, clock=lambda: 1000.0)
    assert sessions.read(cookie) is None
    session, value = sessions.issue("read")
    assert sessions.read(value) == session and not session.admin
    assert Sessions(key=b"other" * 8, clock=lambda: 1000.0).read(value) is None  # another daemon's key
    assert Sessions(key=b"k" * 32, clock=lambda: 1000.0 + 13 * 3600).read(value) is None  # expired


async def test_an_open_event_stream_does_not_hold_up_the_daemons_stop(make_stack: Any) -> None:
    stack: Stack = await make_stack()
    await stack.wait_ready()
    config = replace(stack.config, http=HttpConfig(api_token=API))
    runner = web.AppRunner(create_app(config, stack.bridge, stack.bridge.metrics), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/ui/events"
    async with aiohttp.ClientSession() as http:
        resp = await http.get(url)
        assert (await resp.content.readuntil(b"\n\n")).startswith(b"event: status")
        await asyncio.wait_for(runner.cleanup(), 10)  # not aiohttp's 60 s shutdown timeout
        resp.close()


async def test_the_live_feed_and_the_retry_and_cancel_buttons(make_stack: Any, aiohttp_client: Any) -> None:
    stack: Stack = await make_stack()
    await stack.wait_ready()
    client = await console(stack, aiohttp_client, status_token="")
    page = await (await client.get("/ui/")).text()
    assert 'id="feed"' not in page  # no feed for an anonymous reader of an open console
    await login(client, API)
    resp = await client.get("/ui/events")
    await stack.sim.inject_text("+254711000901", "feed <b>me</b>")
    seen = b""
    while b"event: feed" not in seen:
        seen += await asyncio.wait_for(resp.content.readany(), 10)
    feed = json.loads(seen.split(b"event: feed\ndata: ", 1)[1].split(b"\n", 1)[0])
    assert (feed["kind"], feed["number"], feed["text"]) == ("in", "+254711000901", "feed <b>me</b>")
    resp.close()
    page = await (await client.get("/ui/")).text()
    assert "feed &lt;b&gt;me&lt;/b&gt;" in page and "<b>me</b>" not in page
    # a send that fails for good, retried from its page by an admin
    stack.sim.fail_sends(1, cms=21)
    sent = await stack.bridge.submit(SendRequest(recipients=("+254711000902",), text="try me"))
    await wait_until(lambda: stack.store.views.outbound(sent.message_id).state == "failed")
    story = await (await client.get(f"/ui/messages/{sent.message_id}")).text()
    assert f"/ui/messages/{sent.message_id}/retry" in story and "/cancel" not in story
    resp = await client.post(f"/ui/messages/{sent.message_id}/retry", data={"csrf": "nope"},
                             allow_redirects=False)
    assert resp.status == 403
    resp = await client.post(f"/ui/messages/{sent.message_id}/retry", data={"csrf": csrf_of(story)},
                             allow_redirects=False)
    assert resp.status == 303
    await wait_until(lambda: stack.store.views.outbound(sent.message_id).state == "sent")
    resp = await client.post(f"/ui/messages/{sent.message_id}/cancel", data={"csrf": csrf_of(story)},
                             allow_redirects=False)
    assert resp.status == 409  # nothing queued any more


async def test_compose_counts_parts_with_the_codec_and_sends(make_stack: Any, aiohttp_client: Any) -> None:
    stack: Stack = await make_stack()
    await stack.wait_ready()
    client = await console(stack, aiohttp_client)
    await login(client, API)
    counts = await (await client.get("/ui/segments", params={"text": "x" * 161})).json()
    assert (counts["encoding"], counts["parts"], counts["remaining"]) == ("gsm7", 2, 153 * 2 - 161)
    counts = await (await client.get("/ui/segments", params={"text": "привет"})).json()
    assert (counts["encoding"], counts["parts"]) == ("ucs2", 1)
    page = await (await client.get("/ui/compose")).text()
    csrf = csrf_of(page)
    resp = await client.post("/ui/compose", data={"csrf": csrf, "to": "12", "text": "hi"})
    assert resp.status == 400 and "invalid phone number" in await resp.text()  # the native API's rules
    form = {"csrf": csrf, "to": "+254711000950", "text": "from the console", "modem": "gsm0"}
    resp = await client.post("/ui/compose", data=form, allow_redirects=False)
    assert resp.status == 303
    [record] = await stack.sim.wait_submitted(1)
    assert (record["destination"], record["text"]) == ("+254711000950", "from the console")
    resp = await client.post("/ui/compose", data={"to": "+254711000950", "text": "no csrf"})
    assert resp.status == 403 and len(stack.sim.submitted()) == 1


async def test_the_ussd_console_walks_a_menu(make_stack: Any, aiohttp_client: Any) -> None:
    stack: Stack = await make_stack()
    await stack.wait_ready()
    client = await console(stack, aiohttp_client)
    await login(client, API)
    page = await (await client.get("/ui/modems/gsm0/ussd")).text()
    csrf = csrf_of(page)
    page = await (await client.post("/ui/modems/gsm0/ussd", data={"csrf": csrf, "code": "*123#"})).text()
    assert "Welcome to SIMNET\n1. Balance" in page and 'name="session"' in page
    session = page.split('name="session" value="', 1)[1].split('"', 1)[0]
    page = await (await client.post("/ui/modems/gsm0/ussd",
                                    data={"csrf": csrf, "code": "1", "session": session})).text()
    assert "Your balance is 12.50 KSh" in page and 'name="session"' not in page
    resp = await client.post("/ui/modems/gsm0/ussd", data={"csrf": csrf, "code": "*1#<script>"})
    assert resp.status == 400 and "<script>" not in await resp.text()


async def test_modem_actions_pause_resume_reinit_and_reset(make_stack: Any, aiohttp_client: Any) -> None:
    stack: Stack = await make_stack()
    await stack.wait_ready()
    client = await console(stack, aiohttp_client)
    await login(client, API)
    page = await (await client.get("/ui/")).text()
    csrf = csrf_of(page)
    assert "/ui/modems/gsm0/pause" in page and "/ui/modems/gsm0/resume" not in page
    resp = await client.post("/ui/modems/gsm0/pause", data={"csrf": csrf}, allow_redirects=False)
    assert resp.status == 303
    sender = stack.bridge.senders["gsm0"]
    sent = await stack.bridge.submit(SendRequest(recipients=("+254711000960",), text="held"))
    await asyncio.wait_for(sender.pause_seen.wait(), 10)  # the sender is parked by the pause ...
    assert stack.store.views.outbound(sent.message_id).state == "queued" and stack.sim.submitted() == []
    assert stack.bridge.status().usage["gsm0"].waiting == "paused by an operator"
    page = await (await client.get("/ui/")).text()
    assert "/ui/modems/gsm0/resume" in page
    await client.post("/ui/modems/gsm0/resume", data={"csrf": csrf})
    await wait_until(lambda: stack.store.views.outbound(sent.message_id).state == "sent")  # ... and let go
    echoes = stack.sim.traffic_bytes("rx").count(b"ATE0")
    await client.post("/ui/modems/gsm0/reinit", data={"csrf": csrf})
    await wait_until(lambda: stack.sim.traffic_bytes("rx").count(b"ATE0") > echoes)  # initialised again
    await stack.wait_ready()
    await client.post("/ui/modems/gsm0/reset", data={"csrf": csrf})
    await wait_until(lambda: stack.bridge.modems["gsm0"].snapshot().recovery.taken.get("reset") == 1)
    # the rung is counted as the reset is written; the modem logs it when it reads it
    await wait_until(lambda: b"AT+CFUN=1,1" in stack.sim.traffic_bytes("rx"))
    await stack.wait_ready(timeout=30)
    resp = await client.post("/ui/modems/gsm0/reset", data={"csrf": "wrong"})
    assert resp.status == 403


async def test_the_tester_sends_into_the_simulated_network_and_shows_the_replies(
    make_stack: Any, aiohttp_client: Any,
) -> None:
    stack: Stack = await make_stack(sim_kw={"control": "127.0.0.1:0"})
    await stack.wait_ready()
    assert stack.config.modems[0].sim_control.startswith("http://127.0.0.1:")
    client = await console(stack, aiohttp_client)
    await login(client, API)
    page = await (await client.get("/ui/tester")).text()
    assert '<option value="gsm0"' in page
    form = {"csrf": csrf_of(page), "number": "+254711000970", "modem": "gsm0", "text": "ping <i>me</i>"}
    resp = await client.post("/ui/tester", data=form, allow_redirects=False)
    assert resp.status == 303 and "number=%2B254711000970" in resp.headers["Location"]
    await stack.router.wait(lambda: any(r["text"] == "ping <i>me</i>" for r in stack.router.delivered()))
    await stack.bridge.submit(SendRequest(recipients=("+254711000970",), text="pong"))  # the site's reply
    await stack.bridge.submit(SendRequest(recipients=("+254711000971",), text="call +254711000970"))  # not it
    lines = await (await client.get("/ui/tester/replies", params={"number": "+254711000970"})).json()
    assert [(line["who"], line["text"]) for line in lines] == [("phone", "ping <i>me</i>"), ("site", "pong")]
    page = await (await client.get("/ui/tester", params={"number": "+254711000970"})).text()
    assert "ping &lt;i&gt;me&lt;/i&gt;" in page and "<i>me</i>" not in page
    resp = await client.post("/ui/tester", data=form | {"number": "nope"})
    assert resp.status == 400 and "number" in await resp.text()


async def test_the_overview_shows_the_signal_hour_the_oldest_queued_and_a_router_outage(
    make_stack: Any, aiohttp_client: Any,
) -> None:
    stack: Stack = await make_stack()
    stack.router.fail_all = True  # the site answers 500 to everything: an outage after 3 failures
    await stack.wait_ready()
    stack.bridge.sample_signal()
    stack.sim.set_signal(12)
    await wait_until(lambda: stack.bridge.modems["gsm0"].signal_dbm is not None)
    stack.bridge.sample_signal()
    for i in range(4):
        await stack.sim.inject_text(f"+25471100098{i}", f"while the site is down {i}")
    await wait_until(lambda: stack.bridge.status().router is not None
                     and stack.bridge.status().router.state == "outage")
    client = await console(stack, aiohttp_client, status_token="")
    page = await (await client.get("/ui/")).text()
    assert "outage" in page and "HTTP 500" in page and "next try" in page
    assert "oldest queued" in page and '<svg class="spark"' in page
    stack.router.fail_all = False  # the site is back: the probes end, the messages go through
    await stack.router.wait(lambda: len(stack.router.delivered()) == 4, timeout=30)


async def test_a_messages_timeline_has_every_attempt_its_outcome_and_the_report(
    make_stack: Any, aiohttp_client: Any,
) -> None:
    stack: Stack = await make_stack(sim_kw={"report_delay": 0.05})
    await stack.wait_ready()
    stack.sim.fail_sends(1, cms=42)  # congestion: retried soon
    dlr = f"{stack.router.url}/dlr?type=%d"
    sent = await stack.bridge.submit(SendRequest(recipients=("+254711000985",), text="a story",
                                                 status_report=True, dlr_url=dlr, dlr_mask=1))
    await wait_until(lambda: stack.store.views.outbound(sent.message_id).delivery == "delivered")
    await stack.router.wait(lambda: len(stack.router.dlrs) == 1)
    await wait_until(lambda: stack.store.reports.next_callback_due_at() is None)
    view = stack.store.views.outbound(sent.message_id)
    kinds = [e.kind for e in view.events]
    assert kinds[:4] == ["attempt", "retry", "attempt", "sent"] and "report" in kinds and "callback" in kinds
    await stack.sim.inject_text("+254711000986", "an inbound story")
    await stack.router.wait(lambda: len(stack.router.delivered()) == 1)
    mid = stack.router.delivered()[0]["message_id"]
    await journalled(stack.store, mid)
    await wait_until(lambda: [e.kind for e in stack.store.views.inbound(mid).events] == ["router"])
    client = await console(stack, aiohttp_client, status_token="")
    await login(client, API)
    story = await (await client.get(f"/ui/messages/{sent.message_id}")).text()
    assert "AT+CMGS on gsm0 (attempt 2)" in story and "the SMSC took it, mr" in story
    assert "delivered (TP-ST 0x00)" in story and "dlr-url type 1" in story
    story = await (await client.get(f"/ui/messages/{mid}")).text()
    assert "<b>router</b> delivered: HTTP 200" in story


async def test_an_event_stream_ends_with_its_session_and_streams_are_capped(make_stack: Any,
                                                                             aiohttp_client: Any) -> None:
    from modembridge.http.console import pages

    stack: Stack = await make_stack()
    await stack.wait_ready()
    client = await console(stack, aiohttp_client, status_token="")
    streams = [await client.get("/ui/events") for _ in range(pages.MAX_STREAMS)]
    assert all(r.status == 200 for r in streams)
    assert (await client.get("/ui/events")).status == 503  # at most MAX_STREAMS consoles at a time
    for r in streams:
        r.close()
    client.session.cookie_jar.update_cookies({"mb_console": "\u00e9"})
    assert (await client.get("/ui/")).status == 200  # a non-ASCII cookie is no session, not a 500
