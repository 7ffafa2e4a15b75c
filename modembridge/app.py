"""The daemon's composition root: from a validated Config, the journal, the HTTP clients, the bridge and
the HTTP server, run until told to stop (`modembridge run` and `modembridge demo` use it).

Start-up: say what the settings expose (preflight.py), open the journal, recover parts that a crash left
mid-send, start the HTTP server, the modems and the pipelines, and tell systemd it is ready (with a
watchdog ping from the event loop, when the unit asks for one). SIGTERM/SIGINT (or `stop`): stop accepting,
let each modem finish the AT exchange in progress, commit, return 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import socket
import sys

from modembridge import preflight
from modembridge.config import Config, is_loopback
from modembridge.model import FleetTransport

log = logging.getLogger("modembridge")


def setup_logging(level: str) -> None:
    """The daemon's log: `level` (a name; unknown = INFO) to stderr, aiohttp's access log at WARNING."""
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # The format uses none of the record's caller, thread or process fields: skip collecting them (the
    # logging module's documented optimisation; a record per part costs a stack walk less).
    logging._srcfile = None  # no findCaller
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False


def settle_heap() -> None:
    """Import what `serve` runs and hide those objects (modules, classes, functions: some 42,000 that live
    as long as the process) from the cyclic garbage collector. A full collection, which pauses the one event
    loop, then walks only what the daemon made since: 16 ms -> 1.4 ms measured under load. Frozen objects
    are still freed by reference counting; only a cycle among them would never be collected, and what
    exists before the daemon starts (modules, the config) lives until the process ends. For the process
    entry (`modembridge run`), not for a test calling `serve` in its own interpreter."""
    import modembridge.bridge
    import modembridge.http
    import modembridge.http.callbacks
    import modembridge.http.client
    import modembridge.store  # noqa: F401

    gc.collect()
    gc.freeze()


async def serve(
    config: Config, *, ready: asyncio.Event | None = None, stop: asyncio.Event | None = None
) -> int:
    """Run until `stop` is set or SIGTERM/SIGINT arrives; `ready` is set once the HTTP server listens."""
    from modembridge.bridge import Bridge
    from modembridge.http import create_app, start_server
    from modembridge.http.callbacks import CallbackPolicy
    from modembridge.http.client import DlrClient, RouterClient
    from modembridge.http.transport import HttpTransport
    from modembridge.observe import Metrics, log_numbers
    from modembridge.store import Store

    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread (tests)
            loop.add_signal_handler(sig, stop.set)
    if not is_loopback(config.http.listen):
        log.warning(
            "HTTP listens on %s, not loopback: make sure a firewall and the tokens protect it",
            config.http.listen,
        )
    for warning in preflight.warnings(config):
        log.warning("%s", warning)
    log_numbers(config.log_numbers)

    store = Store.from_config(config)
    http = HttpTransport()
    try:
        metrics = Metrics()
        has_router = bool(config.router.url or config.router.url_template)
        router = RouterClient(config.router, http, metrics)
        dlr = DlrClient(config.dlr, http, metrics, policy=CallbackPolicy.from_config(config))
        bridge = Bridge(
            config, store, router=router.deliver if has_router else None, dlr=dlr.call,
            calls=router.deliver_call if config.router.call_url else None, metrics=metrics,
            fleet=fleet_transport(config),
        )
        app = create_app(config, bridge, metrics)
        # The server first: a site answering an inbound message calls our sendsms from inside the request.
        runner = await start_server(app, config.http.listen)
        try:
            await bridge.start()
        except BaseException:
            await runner.cleanup()
            raise
        log.info(
            "modembridge ready: http=%s modems=%s router=%s",
            config.http.listen,
            ",".join(bridge.modem_ids()),
            config.router.url or "(none: inbound stays in the journal)",
        )
        if ready is not None:
            ready.set()
        notify("READY=1")
        watchdog = asyncio.create_task(ping_watchdog(), name="systemd-watchdog")
        try:
            await stop.wait()
        finally:
            watchdog.cancel()
            notify("STOPPING=1")
            log.info("stopping: finishing the deliveries and the AT exchange in progress")
            await bridge.stop_deliveries()
            await runner.cleanup()
            await bridge.stop()
            store.close()
            log.info("stopped")
    finally:
        await http.close()
    return 0


def fleet_transport(config: Config) -> FleetTransport | None:
    """The shared queue when ``[fleet] redis_url`` is set (redis-py is imported only then)."""
    if not config.fleet.redis_url:
        return None
    from modembridge.fleet import RedisStreams

    host = config.fleet.host_id or fleet_host_name()
    log.info("fleet mode: host %s of group %s on %s", host, config.fleet.group, config.fleet.redis_url)
    return RedisStreams(config.fleet.redis_url, config.fleet.group, host, config.fleet.lease_seconds)


def fleet_host_name() -> str:
    """The machine's host name, as a fleet host id (letters, digits, `_-.`; at most 32)."""
    name = "".join(c if c.isalnum() or c in "_-." else "-" for c in socket.gethostname()).strip("-.")
    return (name or "host")[:32]


def notify(state: str) -> None:
    """Tell systemd (``Type=notify``) how the daemon is; nothing without ``$NOTIFY_SOCKET`` (supervisord,
    a shell, the tests)."""
    address = os.environ.get("NOTIFY_SOCKET", "")
    if not address:
        return
    if address.startswith("@"):  # an abstract socket
        address = "\0" + address[1:]
    with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.sendto(state.encode("ascii"), address)


async def ping_watchdog() -> None:
    """``WATCHDOG=1`` from the event loop itself, three times per ``WatchdogSec``: only a loop that cannot
    run at all for that long (not a disk that stalls it for seconds) gets the daemon restarted."""
    usec = int(os.environ.get("WATCHDOG_USEC", "0") or 0)
    if usec <= 0 or os.environ.get("WATCHDOG_PID", str(os.getpid())) != str(os.getpid()):
        return
    while True:
        notify("WATCHDOG=1")
        await asyncio.sleep(usec / 1e6 / 3)
