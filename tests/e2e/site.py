"""Run the minimal RapidSMS site (tests/e2e/rapidsms_site) as a subprocess and read what it stored.

The site is the real peer, not our code: Django's runserver (threaded, --noreload) on a free
127.0.0.1 port, with its own sqlite file. Its database is read directly with sqlite3.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

HERE = Path(__file__).resolve().parent
INBOUND_PATH = "/backend/kannel-bridge/"
DLR_PATH = "/delivery-report/"
T = TypeVar("T")


@dataclass(frozen=True)
class DeliveryReportRow:
    """One row of RapidSMS's kannel_deliveryreport table (one per dlr-url call)."""

    id: int
    message_id: str
    status: int
    status_text: str
    smsc: str
    sms_id: str
    identity: str
    date_sent: str


@dataclass(frozen=True)
class LoggedMessage:
    """One row of rapidsms.contrib.messagelog: direction "I" (inbound) or "O" (outbound reply)."""

    id: int
    direction: str
    text: str
    identity: str
    backend: str


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class RapidSMSSite:
    """A running site. Build with start_site(); stop() terminates it by PID."""

    def __init__(
        self, port: int, env: dict[str, str], db_path: Path, log_path: Path, process: subprocess.Popen[bytes]
    ) -> None:
        self.port = port
        self.env = env
        base_url = f"http://127.0.0.1:{port}"
        self.base_url = base_url
        self.inbound_url = base_url + INBOUND_PATH
        self.generic_url = base_url + "/backend/http-bridge/"  # GenericHttpBackendView: phone, message
        self.delivery_report_url = base_url + DLR_PATH
        self.db_path = db_path
        self.log_path = log_path
        self.process = process
        self._log_offset = 0

    def _query(self, sql: str) -> list[tuple[object, ...]]:
        con = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=10)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    def delivery_reports(self) -> list[DeliveryReportRow]:
        rows = self._query(
            "SELECT id, message_id, status, status_text, smsc, sms_id, identity, date_sent"
            " FROM kannel_deliveryreport ORDER BY id"
        )
        return [DeliveryReportRow(*row) for row in rows]  # type: ignore[arg-type]

    def messages(self) -> list[LoggedMessage]:
        rows = self._query(
            "SELECT m.id, m.direction, m.text, c.identity, b.name FROM messagelog_message m"
            " JOIN rapidsms_connection c ON c.id = m.connection_id"
            " JOIN rapidsms_backend b ON b.id = c.backend_id ORDER BY m.id"
        )
        return [LoggedMessage(*row) for row in rows]  # type: ignore[arg-type]

    def log(self) -> str:
        """The site's log (runserver + RapidSMS loggers) since the last reset()."""
        with self.log_path.open("rb") as f:
            f.seek(self._log_offset)
            return f.read().decode(errors="replace")

    def reset(self) -> None:
        """Forget stored messages and delivery reports and the log so far (for a site shared by tests)."""
        con = sqlite3.connect(self.db_path, timeout=10)
        try:
            with con:
                con.execute("DELETE FROM messagelog_message")
                con.execute("DELETE FROM kannel_deliveryreport")
        finally:
            con.close()
        self._log_offset = self.log_path.stat().st_size

    async def wait_for(self, probe: Callable[[], T | None], timeout: float = 10.0, what: str = "") -> T:
        """Poll probe() (e.g. a DB read) until it returns a truthy value; fail after timeout."""
        deadline = time.monotonic() + timeout
        while True:
            result = probe()
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what or probe}\n{self.log()}")
            await asyncio.sleep(0.05)

    async def send(self, text: str, identities: list[str], timeout: float = 60.0) -> None:
        """Send an SMS the way a RapidSMS app does (rapidsms.router.send), not as a reply.

        Runs in a separate `django shell` process against the same database and backend settings.
        """
        code = (
            "import json, sys\n"
            "from rapidsms.router import lookup_connections, send\n"
            "args = json.loads(sys.argv[-1])\n"
            "send(args['text'], lookup_connections('kannel-bridge', args['identities']))\n"
        )
        payload = json.dumps({"text": text, "identities": identities})
        with self.log_path.open("ab") as log:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-c", f"import django; django.setup()\n{code}", payload,
                env=self.env, cwd=HERE, stdout=log, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
            code_ = await asyncio.wait_for(proc.wait(), timeout)
        assert code_ == 0, f"rapidsms send failed ({code_}):\n{self.log()}"

    def restart(self, timeout: float = 30.0) -> None:
        """Start it again on the same port with the same database (after stop(), or to bounce it)."""
        self.stop()
        self.process = _spawn(self.port, self.env, self.log_path)
        if not _wait_listening(self.port, self.process, timeout):
            self.stop()
            raise RuntimeError(f"RapidSMS site did not restart on port {self.port}:\n{self.log()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _env(
    db_path: Path,
    sendsms_url: str,
    site_url: str,
    username: str,
    password: str,
    charset: str,
    delivery_reports: bool,
) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="rapidsms_site.settings",
        PYTHONPATH=str(HERE),
        PYTHONUNBUFFERED="1",
        E2E_RAPIDSMS_DB=str(db_path),
        E2E_SENDSMS_URL=sendsms_url,
        E2E_SENDSMS_USERNAME=username,
        E2E_SENDSMS_PASSWORD=password,
        E2E_SITE_URL=site_url if delivery_reports else "",
        E2E_CHARSET=charset,
    )
    return env


def start_site(
    workdir: Path,
    sendsms_url: str,
    *,
    username: str = "rapidsms",
    password: str = "secret",
    charset: str = "UTF-8",
    delivery_reports: bool = True,
    timeout: float = 30.0,
) -> RapidSMSSite:
    """Migrate a fresh sqlite DB in workdir and start runserver; return once it answers HTTP."""
    workdir.mkdir(parents=True, exist_ok=True)
    db_path = workdir / "rapidsms.sqlite3"
    log_path = workdir / "rapidsms.log"
    for _attempt in range(3):  # a free port can be taken between probing and binding: retry
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        env = _env(db_path, sendsms_url, base_url, username, password, charset, delivery_reports)
        if not db_path.exists():
            subprocess.run(
                [sys.executable, "-m", "django", "migrate", "-v0"],
                env=env,
                cwd=HERE,
                check=True,
                timeout=timeout,
            )
        process = _spawn(port, env, log_path)
        site = RapidSMSSite(port, env, db_path, log_path, process)
        if _wait_listening(port, process, timeout):
            return site
        site.stop()
        if "already in use" not in site.log():
            break
    raise RuntimeError(f"RapidSMS site did not start:\n{log_path.read_text(errors='replace')}")


def _spawn(port: int, env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "django", "runserver", f"127.0.0.1:{port}", "--noreload"],
            env=env,
            cwd=HERE,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


def _wait_listening(port: int, process: subprocess.Popen[bytes], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.05)
    return False


SiteFactory = Callable[..., RapidSMSSite]  # the rapidsms_site_factory fixture: start(sendsms_url, **kwargs)
