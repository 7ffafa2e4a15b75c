"""The operator's console in the browser, served by the daemon itself under ``/ui/``: pages.py (login,
overview, messages, the event stream, message actions), tools.py (compose with a live parts counter, the
USSD console, modem actions), tester.py (a phone panel for the simulated network)."""

from aiohttp import web

from . import pages, tester, tools


def add_routes(app: web.Application) -> None:
    pages.add_routes(app)
    tools.add_routes(app)
    tester.add_routes(app)


__all__ = ["add_routes"]
