"""The shipped supervisord config, run by a real supervisord: start, restart after SIGKILL, clean stop."""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import pytest

from .supervisor_harness import SHIPPED, VENV_BIN, _read, sim_command, supervisord


def test_shipped_program_settings() -> None:
    program = _read(SHIPPED / "modembridge.conf")["program:modembridge"]
    assert (
        program["command"]
        == "/opt/modembridge/.venv/bin/modembridge run --config /etc/modembridge/modembridge.toml"
    )
    assert program["stopsignal"] == "TERM"
    assert int(program["stopwaitsecs"]) >= 60 + 10, "an AT+CMGS may take 60 s, then a commit"
    assert program["autostart"] == program["autorestart"] == "true"
    assert program["user"] == "modembridge"
    assert "MODEMBRIDGE_HTTP_API_TOKEN=" in program["environment"]
    for stream in ("stdout", "stderr"):
        assert (
            program[f"{stream}_logfile_maxbytes"].endswith("MB")
            and int(program[f"{stream}_logfile_backups"]) > 0
        )
    main = _read(SHIPPED / "supervisord.conf")
    assert {"unix_http_server", "supervisord", "rpcinterface:supervisor", "supervisorctl", "include"} <= set(
        main.sections()
    )
    assert main["supervisorctl"]["serverurl"] == "unix://" + main["unix_http_server"]["file"]


@pytest.mark.slow
def test_supervisord_runs_restarts_and_stops_cleanly(tmp_path: Path) -> None:
    """The program here is the simulated modem (exits 0 on SIGTERM); test_operations.py runs the daemon."""
    if not (VENV_BIN / "supervisord").exists():
        pytest.skip("supervisord not installed in the venv")
    with supervisord(tmp_path, sim_command(tmp_path)) as sup:
        _, first = sup.wait_for(lambda state, pid: state == "RUNNING")
        assert first is not None
        os.kill(first, signal.SIGKILL)
        _, second = sup.wait_for(lambda state, pid: state == "RUNNING" and pid not in (None, first))
        assert "exited: modembridge (terminated by SIGKILL; not expected)" in sup.log()

        started = time.monotonic()
        done = sup.ctl("stop", "modembridge", timeout=90)
        took = time.monotonic() - started
        assert done.returncode == 0, done.stdout + done.stderr
        assert sup.status()[0] == "STOPPED"
        assert took < 75, "stopped within stopwaitsecs, without SIGKILL"
        assert re.search(r"stopped: modembridge \(exit status 0\)", sup.log()), sup.log()
        assert second is not None and not _alive(second)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
