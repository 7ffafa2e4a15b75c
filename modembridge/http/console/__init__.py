"""The operator's console in the browser, served by the daemon itself under ``/ui/`` (see pages.py)."""

from .pages import add_routes

__all__ = ["add_routes"]
