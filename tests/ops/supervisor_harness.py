"""Render the shipped supervisor/*.conf into a temp folder and drive a real supervisord with it.

The program is a parameter: ``daemon_command(tmp, config)`` runs the real daemon (the test provides a
simulated modem and a config), ``sim_command(tmp)`` runs only the simulated modem (exits 0 on SIGTERM too).
"""

from __future__ import annotations

import configparser
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
SHIPPED = ROOT / "supervisor"


def sim_command(tmp: Path) -> str:
    """The program supervisord runs in the tests: exits 0 on SIGTERM, like the daemon."""
    return f"{sys.executable} -m modembridge sim --link {tmp}/gsm0 --control 127.0.0.1:0 --no-noise"


def daemon_command(config: Path) -> str:
    return f"{sys.executable} -m modembridge run --config {config}"


def _read(path: Path) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(inline_comment_prefixes=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path)
    return parser


def render(tmp: Path, command: str, startsecs: int = 1, environment: str | None = None) -> Path:
    """supervisord.conf + conf.d/modembridge.conf under tmp, with paths moved into tmp and `command` as the
    program. Everything else (signals, stop timeout, restart policy, log rotation) stays as shipped, except
    startsecs (shortened so the test does not wait 5 s per start) and user= (the test runs as whoever)."""
    main = _read(SHIPPED / "supervisord.conf")
    main["unix_http_server"]["file"] = str(tmp / "supervisor.sock")
    main["supervisord"].update(
        logfile=str(tmp / "supervisord.log"),
        pidfile=str(tmp / "supervisord.pid"),
        childlogdir=str(tmp),
        nodaemon="true",
    )
    main["supervisorctl"]["serverurl"] = f"unix://{tmp / 'supervisor.sock'}"
    main["include"]["files"] = str(tmp / "conf.d" / "*.conf")
    program = _read(SHIPPED / "modembridge.conf")
    section = program["program:modembridge"]
    section.update(
        command=command,
        directory=str(tmp),
        startsecs=str(startsecs),
        stdout_logfile=str(tmp / "stdout.log"),
        stderr_logfile=str(tmp / "modembridge.log"),
    )
    section.pop("user", None)
    if environment is not None:
        section["environment"] = environment
    (tmp / "conf.d").mkdir(exist_ok=True)
    with open(tmp / "conf.d" / "modembridge.conf", "w") as f:
        program.write(f)
    conf = tmp / "supervisord.conf"
    with open(conf, "w") as f:
        main.write(f)
    return conf


@dataclass
class Supervisor:
    conf: Path
    proc: subprocess.Popen[bytes]

    def ctl(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(VENV_BIN / "supervisorctl"), "-c", str(self.conf), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def status(self) -> tuple[str, int | None]:
        """(state, pid) of the program, e.g. ("RUNNING", 1234); ("", None) while supervisord is not up."""
        words = self.ctl("status", "modembridge").stdout.split()
        if len(words) < 2 or words[0] != "modembridge":
            return "", None
        pid = int(words[3].rstrip(",")) if len(words) > 3 and words[2] == "pid" else None
        return words[1], pid

    def wait_for(
        self, predicate: Callable[[str, int | None], bool], timeout: float = 30
    ) -> tuple[str, int | None]:
        """Poll supervisorctl until predicate(state, pid) holds (no event to wait on across processes)."""
        deadline = time.monotonic() + timeout
        state, pid = self.status()
        while not predicate(state, pid):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; last status {state} {pid}; log:\n{self.log()}")
            if self.proc.poll() is not None:
                raise AssertionError(f"supervisord exited {self.proc.returncode}; log:\n{self.log()}")
            time.sleep(0.1)
            state, pid = self.status()
        return state, pid

    def log(self) -> str:
        path = self.conf.parent / "supervisord.log"
        return path.read_text() if path.exists() else ""


@contextmanager
def supervisord(tmp: Path, command: str, environment: str | None = None) -> Iterator[Supervisor]:
    conf = render(tmp, command, environment=environment)
    proc = subprocess.Popen(
        [str(VENV_BIN / "supervisord"), "-c", str(conf)],
        cwd=tmp,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ},
    )
    sup = Supervisor(conf, proc)
    try:
        yield sup
    finally:
        if proc.poll() is None:
            sup.ctl("shutdown", timeout=10)
            try:
                proc.wait(timeout=90)  # stops the program first (up to stopwaitsecs)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=10)
