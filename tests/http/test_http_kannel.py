"""Kannel-compatible /cgi-bin/sendsms: parameters, answers, charsets, as RapidSMS's KannelBackend calls it."""

from __future__ import annotations

from urllib.parse import quote, urlencode

import pytest
from httpfakes import KANNEL_PASS, KANNEL_USER, Client, ClientFactory, FakeGateway, make_config
from yarl import URL

from modembridge.config import KannelConfig
from modembridge.http import create_app
from modembridge.observe import Metrics

FORM = "application/x-www-form-urlencoded"
CREDS = {"username": KANNEL_USER, "password": KANNEL_PASS}


def q(params: dict[str, str | bytes]) -> str:
    """A query string the way python-requests (RapidSMS) encodes it: space as +, + as %2B."""
    return urlencode(params)


async def get_raw(client: Client, query: str) -> tuple[int, str]:
    resp = await client.get(URL(f"/cgi-bin/sendsms?{query}", encoded=True))
    return resp.status, await resp.text()


async def test_rapidsms_style_request(client: Client, gateway: FakeGateway) -> None:
    dlr = ("http://site/backend/kannel-fake-smsc/delivery-report/?message_id=17&status=%d&status_text=%A"
           "&smsc=%i&sms_id=%I&date_sent=%t&identity=%p")
    params = {**CREDS, "to": "+254700000001 +254700000002", "text": "Hello world+1",
              "coding": "0", "charset": "ascii", "dlr-mask": "31", "dlr-url": dlr}
    status, text = await get_raw(client, q(params))
    assert (status, text) == (202, "0: Accepted for delivery")
    req = gateway.submitted[0]
    assert req.recipients == ("+254700000001", "+254700000002")
    assert req.text == "Hello world+1"
    assert req.dlr_url == dlr and req.dlr_mask == 31 and req.status_report
    assert req.source == "kannel" and req.client_id is None


async def test_post_form(client: Client, gateway: FakeGateway) -> None:
    body = q({**CREDS, "to": "+254700000001", "text": "café", "charset": "UTF-8"})
    resp = await client.post("/cgi-bin/sendsms", data=body.encode(),
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status == 202 and await resp.text() == "0: Accepted for delivery"
    assert gateway.submitted[0].text == "café"


async def test_post_latin1_form_body(client: Client, gateway: FakeGateway) -> None:
    body = q({**CREDS, "to": "0712345678", "charset": "ISO-8859-1"}) + "&text=caf\xe9+ol\xe9"
    resp = await client.post("/cgi-bin/sendsms", data=body.encode("latin-1"),
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status == 202
    assert gateway.submitted[0].text == "café olé"


async def test_post_kannel_headers_flavour(client: Client, gateway: FakeGateway) -> None:
    headers = {"Content-Type": "text/plain; charset=UTF-8", "X-Kannel-Username": KANNEL_USER,
               "X-Kannel-Password": KANNEL_PASS, "X-Kannel-To": "+254700000001", "X-Kannel-SMSC": "m2"}
    resp = await client.post("/cgi-bin/sendsms", data="Ünïcode body".encode(), headers=headers)
    assert resp.status == 202
    assert gateway.submitted[0].text == "Ünïcode body" and gateway.submitted[0].modem == "m2"


async def test_user_pass_aliases(client: Client, gateway: FakeGateway) -> None:
    status, _ = await get_raw(client, q({"user": KANNEL_USER, "pass": KANNEL_PASS, "to": "123", "text": "x"}))
    assert status == 202


@pytest.mark.parametrize("creds", [
    {}, {"username": KANNEL_USER}, {"username": KANNEL_USER, "password": "wrong"},
    {"username": "other", "password": KANNEL_PASS}, {"password": KANNEL_PASS},
])
async def test_bad_credentials_are_403(client: Client, gateway: FakeGateway, creds: dict[str, str]) -> None:
    status, text = await get_raw(client, q({**creds, "to": "+254700000001", "text": "x"}))
    assert (status, text) == (403, "Authorization failed for sendsms")
    assert gateway.submitted == []


async def test_disabled_without_credentials(aiohttp_client: ClientFactory, gateway: FakeGateway) -> None:
    client = await aiohttp_client(create_app(make_config(kannel=KannelConfig()), gateway, Metrics()))
    status, text = await get_raw(client, q({"username": "", "password": "", "to": "123", "text": "x"}))
    assert (status, text) == (403, "Authorization failed for sendsms")


@pytest.mark.parametrize(("params", "answer"), [
    ({"text": "x"}, "Missing receiver number, rejected"),
    ({"to": "", "text": "x"}, "Empty receiver number not allowed, rejected"),
    ({"to": "abc", "text": "x"}, "Number(s) has/have been denied by white- and/or black-lists."),
    ({"to": "+254700000001"}, "Missing text, rejected"),
    ({"to": "+254700000001", "text": ""}, "Empty text not allowed, rejected"),
    ({"to": "+254700000001", "text": "x", "coding": "7"}, "Coding field misformed, rejected"),
    ({"to": "+254700000001", "text": "x", "coding": "two"}, "Coding field misformed, rejected"),
    ({"to": "+254700000001", "text": "x", "mclass": "5"}, "MClass field misformed, rejected"),
    ({"to": "+254700000001", "text": "x", "dlr-mask": "99"}, "DLR-Mask field misformed, rejected"),
    ({"to": "+254700000001", "text": "x", "dlr-url": "ftp://x"}, "DLR-URL field misformed, rejected"),
    ({"to": "+254700000001", "text": "x", "validity": "0"}, "Validity field misformed, rejected"),
    ({"to": "+254700000001", "text": "x", "validity": "x"}, "Validity field misformed, rejected"),
    ({"to": "+254700000001", "text": "x", "charset": "klingon"}, "Charset or body misformed, rejected"),
    ({"to": "+254700000001", "text": "x", "charset": "base64"}, "Charset or body misformed, rejected"),
    ({"to": "+254700000001", "text": "x", "smsc": "m9"}, "Not routable. Do not try again."),
    ({"to": "+254700000001", "text": "x" * 1600}, "Text too long (11 parts, at most 10), rejected"),
    ({"to": " ".join(f"+2547000{i:05d}" for i in range(101)), "text": "x"},
     "Too many receivers (more than 100), rejected"),
])
async def test_bad_input_answers_like_kannel(
    client: Client, gateway: FakeGateway, params: dict[str, str], answer: str
) -> None:
    status, text = await get_raw(client, q({**CREDS, **params}))
    assert (status, text) == (400, answer)
    assert gateway.submitted == []


async def test_invalid_receivers_are_dropped_like_kannel(client: Client, gateway: FakeGateway) -> None:
    status, _ = await get_raw(client, q({**CREDS, "to": "+254700000001 bogus 12 0712-345-678", "text": "x"}))
    assert status == 202
    assert gateway.submitted[0].recipients == ("+254700000001", "0712345678")


async def test_unencoded_plus_is_a_separator(client: Client, gateway: FakeGateway) -> None:
    # '+' in a query string is a space (as in Kannel): the number arrives without its plus
    status, _ = await get_raw(client, q(CREDS) + "&to=+254700000001+0712345678&text=hi")
    assert status == 202
    assert gateway.submitted[0].recipients == ("254700000001", "0712345678")


async def test_parameters_map_to_send_request(client: Client, gateway: FakeGateway) -> None:
    params = {**CREDS, "to": "%2B254700000001", "text": "x", "from": "me", "smsc": "m1", "validity": "30",
              "mclass": "0", "dlr-mask": "8", "dlr-url": "http://site/d?x=%d", "unknown": "ignored"}
    status, _ = await get_raw(client, "&".join(f"{k}={quote(v, safe='%')}" for k, v in params.items()))
    assert status == 202
    req = gateway.submitted[0]
    assert req.recipients == ("+254700000001",)
    assert (req.sender, req.modem, req.validity, req.flash) == ("me", "m1", 1800, True)
    assert (req.dlr_mask, req.status_report, req.dlr_url) == (8, False, "http://site/d?x=%d")


# -- charsets ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "charset", "coding"), [
    ("plain ascii", "ascii", None),
    ("Habari yako? ∑ ✓ 😀", "UTF-8", None),
    ("Habari yako? ∑ ✓ 😀", None, None),  # Kannel's default for coding 0 is UTF-8
    ("crème brûlée", "ISO-8859-1", None),
    ("crème brûlée", "windows-1252", "0"),
    ("Привет мир ✓ 😀", "UTF-16BE", "2"),
    ("Привет мир", None, "2"),  # Kannel's default for coding 2 is UTF-16BE
])
async def test_text_is_decoded_from_raw_bytes_with_charset(
    client: Client, gateway: FakeGateway, text: str, charset: str | None, coding: str | None
) -> None:
    enc = charset or ("utf-16-be" if coding == "2" else "utf-8")
    params: dict[str, str | bytes] = {**CREDS, "to": "+254700000001", "text": text.encode(enc)}
    if charset:
        params["charset"] = charset
    if coding:
        params["coding"] = coding
    status, answer = await get_raw(client, q(params))
    assert (status, answer) == (202, "0: Accepted for delivery")
    assert gateway.submitted[0].text == text


async def test_bytes_invalid_in_charset_are_rejected(client: Client, gateway: FakeGateway) -> None:
    status, text = await get_raw(client, q({**CREDS, "to": "123", "text": "é".encode("latin-1"),
                                            "charset": "UTF-8"}))
    assert (status, text) == (400, "Charset or body misformed, rejected")
    status, text = await get_raw(client, q({**CREDS, "to": "123", "text": b"\x00A\x00", "coding": "2"}))
    assert (status, text) == (400, "Charset or body misformed, rejected")
    assert gateway.submitted == []


async def test_coding_1_is_refused(client: Client, gateway: FakeGateway) -> None:
    status, text = await get_raw(client, q({**CREDS, "to": "123", "text": "x", "coding": "1"}))
    assert status == 400 and "coding=1" in text
    assert gateway.submitted == []


async def test_oversized_post_is_413(aiohttp_client: ClientFactory, gateway: FakeGateway) -> None:
    client = await aiohttp_client(create_app(make_config(max_body_bytes=512), gateway, Metrics()))
    body = q({**CREDS, "to": "123", "text": "x" * 1000})
    resp = await client.post("/cgi-bin/sendsms", data=body.encode(),
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status == 413
    assert gateway.submitted == []


async def test_wrong_content_type(client: Client, gateway: FakeGateway) -> None:
    resp = await client.post("/cgi-bin/sendsms", data=b"<x/>", headers={"Content-Type": "image/png"})
    assert (resp.status, await resp.text()) == (400, "Invalid content-type")


async def test_gateway_failure_is_kannel_temporary_failure(client: Client, gateway: FakeGateway) -> None:
    gateway.fail_next = OSError("disk full")
    status, text = await get_raw(client, q({**CREDS, "to": "123", "text": "x"}))
    assert (status, text) == (503, "Temporal failure, try again later.")


async def test_form_charset_from_content_type(client: Client, gateway: FakeGateway) -> None:
    body = q({**CREDS, "to": "0712345678"}) + "&text=caf\xe9"
    resp = await client.post("/cgi-bin/sendsms", data=body.encode("latin-1"),
                             headers={"Content-Type": f"{FORM}; charset=ISO-8859-1"})
    assert resp.status == 202
    assert gateway.submitted[0].text == "café"


async def test_idempotency_key_header(client: Client, gateway: FakeGateway) -> None:
    query = q({**CREDS, "to": "0712345678", "text": "once"})
    for _ in range(2):
        resp = await client.get(URL(f"/cgi-bin/sendsms?{query}", encoded=True),
                                headers={"Idempotency-Key": "r-1"})
        assert (resp.status, await resp.text()) == (202, "0: Accepted for delivery")
    assert len(gateway.submitted) == 1 and gateway.submitted[0].client_id == "r-1"
    resp = await client.get(URL(f"/cgi-bin/sendsms?{query}", encoded=True), headers={"Idempotency-Key": ""})
    assert resp.status == 400


async def test_long_get_within_body_limit(gateway: FakeGateway) -> None:
    import aiohttp

    from modembridge.http import start_server

    runner = await start_server(create_app(make_config(), gateway, Metrics()), "127.0.0.1:0")
    text = "é" * 1530  # 10 GSM 7-bit parts, 9 KB of request line as percent-encoded UTF-8
    query = q({**CREDS, "to": "0712345678", "text": text.encode(), "charset": "UTF-8"})
    assert len(query) > 8190  # aiohttp's default request-line limit
    try:
        async with aiohttp.ClientSession() as s, s.get(
            URL(f"http://127.0.0.1:{runner.addresses[0][1]}/cgi-bin/sendsms?{query}", encoded=True)
        ) as resp:
            assert resp.status == 202
    finally:
        await runner.cleanup()
    assert gateway.submitted[0].text == text
