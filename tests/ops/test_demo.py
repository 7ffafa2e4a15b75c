"""The quick start's first command: `modembridge demo` runs the daemon against the simulated modem."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_demo_echoes_injected_messages_back_through_the_modem(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    done = subprocess.run(
        [sys.executable, "-m", "modembridge", "demo", "--port", "0", "--dir", str(workdir),
         "--exit-after", "2"],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "demo self-test: 2 message(s) in, 2 echo(es) sent by the modem" in done.stdout
    assert "modembridge demo is running" in done.stdout
    assert done.stdout.lstrip().startswith("Console: http://127.0.0.1:")  # the first thing it prints
    assert "/ui/" in done.stdout.lstrip().splitlines()[0]
    # the demo writes its own config: it must not trip its own start-up warning about readable secrets
    assert "readable by others" not in done.stderr
    assert stat.S_IMODE((workdir / "modembridge.toml").stat().st_mode) == 0o600
    assert "Traceback" not in done.stderr
