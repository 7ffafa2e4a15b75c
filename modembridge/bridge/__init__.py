"""The bridge: the only place that knows both the modem side (at/, sms/) and the web side (http/)."""

from modembridge.bridge.core import Bridge

__all__ = ["Bridge"]
