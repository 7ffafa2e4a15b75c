"""An operator's day, for real: supervisord (shipped config) runs `modembridge run` on a simulated modem;
`modembridge status`, `send` and `messages` answer; a SIGKILLed daemon comes back; `stop` exits 0."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import signal
import socket
import time
from pathlib import Path

import pytest

from modembridge.cli import api, main
from modembridge.cli.common import CliError
from modembridge.sim.process import SimProcess

from .supervisor_harness import VENV_BIN, daemon_command, supervisord

TOKEN = "token-from-supervisor-env"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _until_ready(url: str, timeout: float = 30) -> dict[str, object]:
    """Poll /status until the modem is ready (the daemon is another process: no event to wait on)."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            code, body = await asyncio.to_thread(api.http_json, "GET", f"{url}/status", timeout=5)
        except CliError as exc:
            last = exc
        else:
            last = body
            if code == 200 and isinstance(body, dict) and body["modems"]["gsm0"]["state"] == "ready":
                return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"daemon not ready: {last}")


async def _until_shows(config: Path, message_id: str, words: str, timeout: float = 20) -> str:
    """`messages show` until its output contains `words` (the daemon works in another process)."""
    deadline = time.monotonic() + timeout
    while True:
        out = await asyncio.to_thread(_show, config, message_id)
        if words in out or time.monotonic() > deadline:
            assert words in out, out
            return out
        await asyncio.sleep(0.2)


def _show(config: Path, message_id: str) -> str:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["messages", "--config", str(config), "show", message_id]) == 0
    return buf.getvalue()


async def cli(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


@pytest.mark.slow
async def test_operators_day(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    if not (VENV_BIN / "supervisord").exists():
        pytest.skip("supervisord not installed in the venv")
    for name in (*api.TOKEN_ENV, *api.STATUS_TOKEN_ENV):
        monkeypatch.delenv(name, raising=False)
    port = _free_port()
    config = tmp_path / "modembridge.toml"
    config.write_text(  # no api_token in the file: it comes from supervisord's environment= line
        f'[store]\npath = "journal.db"\n\n[http]\nlisten = "127.0.0.1:{port}"\n\n'
        f'[[modem]]\nid = "gsm0"\nport = "{tmp_path / "gsm0"}"\n'
    )
    url = f"http://127.0.0.1:{port}"
    async with SimProcess(tmp_path / "gsm0", seed=1) as sim:
        env = f'MODEMBRIDGE_HTTP_API_TOKEN="{TOKEN}",PYTHONUNBUFFERED="1"'
        with supervisord(tmp_path, daemon_command(config), environment=env) as sup:
            _, first = await asyncio.to_thread(sup.wait_for, lambda state, pid: state == "RUNNING")
            await _until_ready(url)

            assert await cli("status", "--config", str(config)) == 0
            out = capsys.readouterr().out
            assert "gsm0" in out and "ready" in out

            assert (
                await cli(
                    "send",
                    "--config",
                    str(config),
                    "--token",
                    TOKEN,
                    "--to",
                    "+254700000001",
                    "--text",
                    "hello from the operator",
                    "--id",
                    "op-1",
                )
                == 0
            )
            out = capsys.readouterr().out
            message_id = out.split("accepted: ", 1)[1].split()[0]
            await sim.wait_submitted(1, timeout=20)

            await sim.inject_text("+254711111111", "an inbound one")
            deadline = time.monotonic() + 20
            while True:  # the daemon journals it, then `messages list` sees it from another connection
                assert await cli("messages", "--config", str(config), "list", "--in") == 0
                out = capsys.readouterr().out
                if "an inbound one" in out or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.2)
            assert "an inbound one" in out and "+254711111111" in out

            # a permanent network refusal, seen with `messages`, queued again while the daemon runs
            await sim.fail_sends(1, cms=1)
            assert (
                await cli(
                    "send",
                    "--config",
                    str(config),
                    "--token",
                    TOKEN,
                    "--to",
                    "+254700000009",
                    "--text",
                    "to a number that does not exist",
                )
                == 0
            )
            failed_id = capsys.readouterr().out.split("accepted: ", 1)[1].split()[0]
            out = await _until_shows(config, failed_id, "state:          failed")
            assert "+CMS ERROR: 1" in out
            assert await cli("messages", "--config", str(config), "retry", failed_id) == 0
            assert capsys.readouterr().out.strip() == f"{failed_id}: queued again"
            assert "(retried by operator)" in await _until_shows(config, failed_id, "retried by operator")

            assert first is not None
            os.kill(first, signal.SIGKILL)
            await asyncio.to_thread(sup.wait_for, lambda state, pid: state == "RUNNING" and pid != first)
            await _until_ready(url)
            # the same client id after the restart: journalled, so not sent twice
            assert (
                await cli(
                    "send",
                    "--url",
                    url,
                    "--token",
                    TOKEN,
                    "--to",
                    "+254700000001",
                    "--text",
                    "hello from the operator",
                    "--id",
                    "op-1",
                )
                == 0
            )
            assert f"accepted: {message_id}  (already accepted earlier" in capsys.readouterr().out
            deadline = time.monotonic() + 20
            while True:
                assert await cli("messages", "--config", str(config), "show", message_id) == 0
                out = capsys.readouterr().out
                if "state:          sent" in out or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.2)
            assert "state:          sent" in out and "mr=" in out

            started = time.monotonic()
            done = await asyncio.to_thread(sup.ctl, "stop", "modembridge", timeout=90)
            assert done.returncode == 0 and sup.status()[0] == "STOPPED"
            assert time.monotonic() - started < 75
            assert "stopped: modembridge (exit status 0)" in sup.log()
