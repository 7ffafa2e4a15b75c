"""`modembridge send` and `status` against a real HTTP server that mimics the daemon's API.

The CLI is synchronous (urllib), so it runs in a worker thread while the test's loop serves HTTP.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from modembridge.cli import api, main
from modembridge.cli.common import EXIT_UNREACHABLE

from .fake_daemon import TOKEN, FakeDaemon, fake_daemon

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def daemon() -> AsyncIterator[FakeDaemon]:
    async with fake_daemon() as d:
        yield d


async def cli(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


@pytest.fixture(autouse=True)
def _no_token_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*api.TOKEN_ENV, *api.STATUS_TOKEN_ENV):
        monkeypatch.delenv(name, raising=False)


async def test_send_prints_id_encoding_parts(daemon: FakeDaemon, capsys: pytest.CaptureFixture[str]) -> None:
    code = await cli(
        "send",
        "--url",
        daemon.url,
        "--token",
        TOKEN,
        "--to",
        "+254700000001",
        "--to",
        "+254700000002",
        "--text",
        "x" * 200,
        "--status-report",
        "--modem",
        "gsm0",
        "--id",
        "ref-1",
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "accepted: m0001" in out and "gsm7, 2 parts per recipient" in out
    assert "+254700000001, +254700000002" in out
    sent = json.loads(daemon.requests[0]["body"])
    assert sent == {
        "to": ["+254700000001", "+254700000002"],
        "text": "x" * 200,
        "id": "ref-1",
        "status_report": True,
        "modem": "gsm0",
    }
    assert daemon.requests[0]["auth"] == f"Bearer {TOKEN}"


async def test_send_same_id_twice_says_duplicate(
    daemon: FakeDaemon, capsys: pytest.CaptureFixture[str]
) -> None:
    args = (
        "send",
        "--url",
        daemon.url,
        "--token",
        TOKEN,
        "--to",
        "0700000001",
        "--text",
        "héllo ✓",
        "--id",
        "k",
    )
    assert await cli(*args) == 0
    first = capsys.readouterr().out
    assert await cli(*args) == 0
    second = capsys.readouterr().out
    assert "ucs2, 1 part per recipient" in first and "already accepted" not in first
    assert "accepted: m0001" in second and "already accepted earlier" in second


async def test_send_token_from_environment(
    daemon: FakeDaemon, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MODEMBRIDGE_API_TOKEN", TOKEN)
    assert await cli("send", "--url", daemon.url, "--to", "+254700000001", "--text", "hi", "--json") == 0
    assert json.loads(capsys.readouterr().out)["parts"] == 1


async def test_send_401_explains(daemon: FakeDaemon, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        await cli("send", "--url", daemon.url, "--token", "wrong", "--to", "+254700000001", "--text", "x")
        == 1
    )
    err = capsys.readouterr().err
    assert "401 unauthorized" in err and "MODEMBRIDGE_API_TOKEN" in err


async def test_send_400_shows_server_error(daemon: FakeDaemon, capsys: pytest.CaptureFixture[str]) -> None:
    assert await cli("send", "--url", daemon.url, "--token", TOKEN, "--to", "abc", "--text", "x") == 1
    assert "HTTP 400: invalid phone number 'abc' (field 'to')" in capsys.readouterr().err


async def test_send_daemon_not_running(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = await cli(
        "send", "--url", f"http://127.0.0.1:{port}", "--token", TOKEN, "--to", "+2547", "--text", "x"
    )
    assert code == EXIT_UNREACHABLE
    err = capsys.readouterr().err
    assert "connection refused" in err and "is the daemon running?" in err


async def test_send_reads_url_and_token_from_config(
    daemon: FakeDaemon, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = daemon.url.rsplit(":", 1)[1]
    cfg = tmp_path / "modembridge.toml"
    cfg.write_text(
        f'[http]\nlisten = "0.0.0.0:{port}"\napi_token = "{TOKEN}"\n\n'
        '[[modem]]\nid = "gsm0"\nport = "/dev/null"\n'
    )
    assert await cli("send", "--config", str(cfg), "--to", "+254700000001", "--text", "from config") == 0
    assert "accepted: m0001" in capsys.readouterr().out
    assert daemon.requests[0]["auth"] == f"Bearer {TOKEN}"


async def test_status_readable(daemon: FakeDaemon, capsys: pytest.CaptureFixture[str]) -> None:
    assert await cli("status", "--url", daemon.url) == 0
    out = capsys.readouterr().out
    gsm0 = next(line for line in out.splitlines() if line.strip().startswith("gsm0 "))
    for word in ("ready", "-73 dBm", "home", "Safaricom", "SM 3/30"):
        assert word in gsm0
    gsm1 = next(line for line in out.splitlines() if line.strip().startswith("gsm1 "))
    assert "recovering" in gsm1 and "+CME ERROR: 10" in gsm1
    assert "imei=356938035643809" in out  # details without a column are not dropped
    assert "outbound_parts: gsm0=2, unassigned=5" in out
    assert "inbound_parts: 41" in out


async def test_status_json_and_token(
    daemon: FakeDaemon, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    daemon.status_token = "st"
    assert await cli("status", "--url", daemon.url) == 1
    assert "401" in capsys.readouterr().err
    assert await cli("status", "--url", daemon.url, "--token", "st") == 0
    assert "Safaricom" in capsys.readouterr().out
    monkeypatch.setenv("MODEMBRIDGE_STATUS_TOKEN", "st")
    assert await cli("status", "--url", daemon.url, "--json") == 0
    assert json.loads(capsys.readouterr().out)["modems"]["gsm0"]["operator"] == "Safaricom"


@pytest.mark.parametrize(
    ("listen", "url"),
    [
        ("127.0.0.1:13013", "http://127.0.0.1:13013"),
        ("0.0.0.0:80", "http://127.0.0.1:80"),
        ("[::]:13013", "http://[::1]:13013"),
        ("[::1]:5", "http://[::1]:5"),
        ("gw.lan:13013", "http://gw.lan:13013"),
    ],
)
def test_url_for_listen(listen: str, url: str) -> None:
    assert api.url_for_listen(listen) == url


async def test_real_entry_point_with_stdin_text(daemon: FakeDaemon) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "modembridge",
        "send",
        "--url",
        daemon.url,
        "--token",
        TOKEN,
        "--to",
        "+254700000001",
        "--text",
        "-",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        cwd=ROOT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(b"line one\nline two\n"), 30)
    assert proc.returncode == 0, out
    assert json.loads(daemon.requests[0]["body"])["text"] == "line one\nline two"
