"""What the daemon warns about when it starts: settings that work but expose something.

Each warning names the setting and the fix; none stops the daemon (a refusal belongs in the config's
validation). Checked: a config file holding secrets that others may read, running as root, the example
file's `change-me` secrets left in place, `/status` and `/metrics` open on a non-loopback address, and a
Kannel sendsms half configured (it stays off).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from modembridge.config import Config, is_loopback

EXAMPLE_SECRET = "change-me"


def secrets(config: Config) -> dict[str, str]:
    """Every secret the config holds (dotted key -> value), the empty ones left out."""
    found = {
        "http.api_token": config.http.api_token,
        "http.kannel.password": config.http.kannel.password,
        "http.status_token": config.http.status_token,
        "router.hmac_secret": config.router.hmac_secret,
        **{f"modem[{i}].pin": m.pin for i, m in enumerate(config.modems)},
    }
    return {key: value for key, value in found.items() if value}


def warnings(config: Config, *, euid: int | None = None) -> list[str]:
    out = []
    held = secrets(config)
    path = Path(config.source)
    if held and path.is_file():
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8", errors="replace")
        in_file = sorted(key for key, value in held.items() if value in text)
        if in_file and mode & (stat.S_IRWXG | stat.S_IRWXO):
            out.append(f"{path} holds secrets ({', '.join(in_file)}) and is readable by others (mode "
                       f"{stat.filemode(mode)}): chmod 600 it, or move the secrets to the environment")
    if (os.geteuid() if euid is None else euid) == 0:
        out.append("running as root: run as a dedicated user in the dialout group (see docs/operations.md)")
    for key, value in held.items():
        if value == EXAMPLE_SECRET:
            out.append(f"{key} is the example's {EXAMPLE_SECRET!r}: set a secret of your own")
    if not config.http.status_token and not is_loopback(config.http.listen):
        out.append(f"/status and /metrics are open on {config.http.listen}: set http.status_token")
    kannel = config.http.kannel
    if bool(kannel.username) != bool(kannel.password):
        missing = "password" if kannel.username else "username"
        out.append(f"http.kannel.{missing} is empty: /cgi-bin/sendsms is disabled until both username and "
                   "password are set")
    return out
