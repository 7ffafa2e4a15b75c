"""The native JSON API: POST /api/v1/messages and GET /api/v1/messages/{id}."""

from __future__ import annotations

from typing import Any

import pytest
from httpfakes import AUTH, TOKEN, Client, ClientFactory, FakeGateway, make_config

from modembridge.http import create_app
from modembridge.observe import Metrics


async def post(client: Client, body: Any, **headers: str) -> tuple[int, Any]:
    resp = await client.post("/api/v1/messages", json=body, headers={**AUTH, **headers})
    return resp.status, await resp.json()


async def test_accepts_and_answers_202(client: Client, gateway: FakeGateway) -> None:
    status, body = await post(client, {"to": "+254700000001", "text": "hello"})
    assert status == 202
    assert body["recipients"] == ["+254700000001"]
    assert body["encoding"] == "gsm7" and body["parts"] == 1 and body["duplicate"] is False
    assert len(gateway.submitted) == 1
    req = gateway.submitted[0]
    assert req.text == "hello" and req.source == "api" and req.client_id is None


async def test_all_fields_reach_the_gateway(client: Client, gateway: FakeGateway) -> None:
    status, _ = await post(client, {
        "to": ["+254 700-000-001", "0712345678", "+254700000001"], "text": "héllo ✓", "id": "c-1",
        "status_report": True, "validity": 3600, "flash": True, "modem": "m2",
    })
    assert status == 202
    req = gateway.submitted[0]
    assert req.recipients == ("+254700000001", "0712345678")  # normalised, de-duplicated
    got = (req.client_id, req.status_report, req.validity, req.flash, req.modem)
    assert got == ("c-1", True, 3600, True, "m2")


async def test_same_client_id_gives_same_answer(client: Client, gateway: FakeGateway) -> None:
    s1, b1 = await post(client, {"to": "+254700000001", "text": "x", "id": "abc"})
    s2, b2 = await post(client, {"to": "+254700000001", "text": "x", "id": "abc"})
    assert s1 == s2 == 202
    assert b1["id"] == b2["id"] and b2["duplicate"] is True
    assert len(gateway.submitted) == 1


async def test_idempotency_key_header(client: Client, gateway: FakeGateway) -> None:
    _, b1 = await post(client, {"to": "+254700000001", "text": "x"}, **{"Idempotency-Key": "k-9"})
    _, b2 = await post(client, {"to": "+254700000001", "text": "x"}, **{"Idempotency-Key": "k-9"})
    assert b1["id"] == b2["id"] and gateway.submitted[0].client_id == "k-9"
    status, body = await post(client, {"to": "+254700000001", "text": "x", "id": "other"},
                              **{"Idempotency-Key": "k-9"})
    assert status == 400 and body["field"] == "id"


async def test_get_message(client: Client) -> None:
    _, body = await post(client, {"to": "+254700000001", "text": "x"})
    resp = await client.get(f"/api/v1/messages/{body['id']}", headers=AUTH)
    assert resp.status == 200
    assert (await resp.json())["id"] == body["id"]
    resp = await client.get("/api/v1/messages/nope", headers=AUTH)
    assert resp.status == 404
    assert (await resp.json())["field"] == "id"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}, {"Authorization": TOKEN}],
)
async def test_auth_required(client: Client, gateway: FakeGateway, headers: dict[str, str]) -> None:
    resp = await client.post("/api/v1/messages", json={"to": "+254700000001", "text": "x"}, headers=headers)
    assert resp.status == 401
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    resp = await client.get("/api/v1/messages/x", headers=headers)
    assert resp.status == 401
    assert gateway.submitted == []


async def test_disabled_without_token(aiohttp_client: ClientFactory, gateway: FakeGateway) -> None:
    client = await aiohttp_client(create_app(make_config(api_token=""), gateway, Metrics()))
    resp = await client.post("/api/v1/messages", json={"to": "+254700000001", "text": "x"},
                             headers={"Authorization": "Bearer "})
    assert resp.status == 403
    assert gateway.submitted == []


BAD: list[tuple[Any, str | None]] = [
    ([1, 2], None),
    ({"text": "x"}, "to"),
    ({"to": "+254700000001"}, "text"),
    ({"to": "+254700000001", "text": ""}, "text"),
    ({"to": "+254700000001", "text": 5}, "text"),
    ({"to": 254700000001, "text": "x"}, "to"),
    ({"to": [], "text": "x"}, "to"),
    ({"to": ["+254700000001", 7], "text": "x"}, "to"),
    ({"to": "+25470000000123456", "text": "x"}, "to"),  # 17 digits after +
    ({"to": "12", "text": "x"}, "to"),
    ({"to": "+2547abc", "text": "x"}, "to"),
    ({"to": "0" * 21, "text": "x"}, "to"),
    ({"to": [f"+2547000{i:05d}" for i in range(101)], "text": "x"}, "to"),
    ({"to": "+254700000001", "text": "x" * 2000}, "text"),
    ({"to": "+254700000001", "text": "x", "validity": 10}, "validity"),
    ({"to": "+254700000001", "text": "x", "validity": 10**9}, "validity"),
    ({"to": "+254700000001", "text": "x", "validity": "60"}, "validity"),
    ({"to": "+254700000001", "text": "x", "validity": True}, "validity"),
    ({"to": "+254700000001", "text": "x", "flash": "yes"}, "flash"),
    ({"to": "+254700000001", "text": "x", "status_report": 1}, "status_report"),
    ({"to": "+254700000001", "text": "x", "modem": "m9"}, "modem"),
    ({"to": "+254700000001", "text": "x", "modem": 1}, "modem"),
    ({"to": "+254700000001", "text": "x", "id": ""}, "id"),
    ({"to": "+254700000001", "text": "x", "id": "x" * 200}, "id"),
    ({"to": "+254700000001", "text": "x", "id": 5}, "id"),
    ({"to": "+254700000001", "text": "x", "dlr_url": "ftp://x"}, "dlr_url"),
    ({"to": "+254700000001", "text": "x", "dlr_mask": 3}, "dlr_mask"),
    ({"to": "+254700000001", "text": "x", "colour": "red"}, "colour"),
]


@pytest.mark.parametrize(("body", "field"), BAD)
async def test_bad_input_is_400_naming_the_field(
    client: Client, gateway: FakeGateway, body: Any, field: str | None
) -> None:
    status, answer = await post(client, body)
    assert status == 400
    assert answer["field"] == field
    assert answer["error"]
    assert gateway.submitted == []


async def test_bad_json(client: Client, gateway: FakeGateway) -> None:
    resp = await client.post("/api/v1/messages", data=b'{"to": ', headers=AUTH)
    assert resp.status == 400
    assert "JSON" in (await resp.json())["error"]
    assert gateway.submitted == []


async def test_oversized_body_is_413(aiohttp_client: ClientFactory, gateway: FakeGateway) -> None:
    client = await aiohttp_client(create_app(make_config(max_body_bytes=1024), gateway, Metrics()))
    body = {"to": "+254700000001", "text": "x" * 2000}
    resp = await client.post("/api/v1/messages", json=body, headers=AUTH)
    assert resp.status == 413
    assert gateway.submitted == []


async def test_unknown_modem_from_gateway_is_400(client: Client, gateway: FakeGateway) -> None:
    gateway.modems = ("m1",)  # modem_ids() says m2 exists no more: the gateway's own check answers
    from modembridge.model import UnknownModemError

    gateway.fail_next = UnknownModemError("m1 went away")
    status, body = await post(client, {"to": "+254700000001", "text": "x", "modem": "m1"})
    assert status == 400 and body["field"] == "modem"


async def test_gateway_failure_is_503(client: Client, gateway: FakeGateway) -> None:
    gateway.fail_next = OSError("disk full")
    status, body = await post(client, {"to": "+254700000001", "text": "x"})
    assert status == 503 and "try again" in body["error"]


async def test_max_parts_from_config(aiohttp_client: ClientFactory, gateway: FakeGateway) -> None:
    client = await aiohttp_client(create_app(make_config(max_parts=2), gateway, Metrics()))
    status, _ = await post(client, {"to": "+254700000001", "text": "x" * 306})
    assert status == 202
    status, body = await post(client, {"to": "+254700000001", "text": "x" * 307})
    assert status == 400 and "3 SMS parts" in body["error"]
    # UCS-2: 135 code units, 3 parts
    status, body = await post(client, {"to": "+254700000001", "text": "é€ж" * 45})
    assert status == 400 and body["field"] == "text"


async def test_dlr_url_in_native_api(client: Client, gateway: FakeGateway) -> None:
    status, _ = await post(client, {"to": "+254700000001", "text": "x", "dlr_url": "http://site/dlr?s=%d"})
    assert status == 202
    req = gateway.submitted[0]
    assert req.dlr_url == "http://site/dlr?s=%d" and req.dlr_mask == 3 and req.status_report
