"""Fleet mode's broker: the shared queue on Redis Streams behind :class:`modembridge.model.FleetTransport`.

Only the composition root imports this (and with it redis-py), and only when ``[fleet] redis_url`` is set.
"""

from .redis_streams import RedisStreams, lane_of

__all__ = ["RedisStreams", "lane_of"]
