"""The shared queue on Redis Streams (redis-py's asyncio client): a :class:`model.FleetTransport`.

Jobs wait in one stream per lane, read by one consumer group (the fleet) with one consumer per host; a
stream entry delivered to a host and not yet acknowledged is that host's *lease*, renewed by resetting the
entry's idle time. An entry idle for longer than a lease belongs to a host that stopped renewing: any host
may take it over (``XPENDING ... IDLE``, then ``XCLAIM``), and the job's hash says which parts may already
be out. Each step is a Lua script (``scripts.py``), so a takeover and the old owner's last ``sending`` mark
cannot interleave.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, cast

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from modembridge.model import BridgeStatus, SendAccepted
from modembridge.model.fleet import (
    FleetConflict,
    FleetHost,
    FleetJob,
    FleetMisconfigured,
    FleetQueue,
    FleetUnavailable,
    FleetView,
    PartReport,
    PartState,
    SubmitOutcome,
    Taken,
)
from modembridge.model.wire import WireError, from_wire, to_wire

from . import scripts

log = logging.getLogger(__name__)

CLIENT_ID_TTL = 30 * 86400  # seconds a client id stays taken fleet-wide
DONE_TTL = 7 * 86400  # seconds a finished job's record stays (a takeover of a late report still finds it)
UNKNOWN_MEMORY = 7 * 86400  # seconds a part left unknown counts in the queue's `unknown`
MIN_VERSION = (6, 2)  # XPENDING IDLE
REAP_BATCH = 1000  # queued entries per lane the housekeeping looks at, oldest first


def lane_of(job: FleetJob) -> str:
    """The lane a job waits in: its pinned modem's, or the one every modem reads."""
    return f"m:{job.pinned_modem}" if job.pinned_modem else "any"


def expires_ms(job: FleetJob) -> str:
    return "" if job.expires_at is None else str(int(job.expires_at * 1000))


def job_data(job: FleetJob) -> str:
    """The job's unchanging description, as stored once in its hash."""
    return json.dumps({
        "job_id": job.job_id, "message_id": job.message_id, "recipient": job.recipient,
        "pdus": [list(p) for p in job.pdus], "text": job.text, "encoding": job.encoding, "source": job.source,
        "created_at": job.created_at, "expires_at": job.expires_at, "status_report": job.status_report,
        "validity": job.validity, "flash": job.flash, "pinned_modem": job.pinned_modem,
        "dlr_url": job.dlr_url, "dlr_mask": job.dlr_mask, "sender": job.sender,
    }, ensure_ascii=False, separators=(",", ":"))


def job_from_hash(h: Mapping[str, str], data: str) -> FleetJob:
    d = json.loads(data)
    parts = int(h["parts"])
    states = tuple(cast(PartState, h.get(f"p{s}", "queued")) for s in range(1, parts + 1))
    return FleetJob(
        job_id=d["job_id"], message_id=d["message_id"], recipient=d["recipient"],
        pdus=tuple((str(p), int(n)) for p, n in d["pdus"]), text=d["text"], encoding=d["encoding"],
        source=d["source"], created_at=float(d["created_at"]), expires_at=d["expires_at"],
        status_report=bool(d["status_report"]), validity=d["validity"], flash=bool(d["flash"]),
        pinned_modem=d["pinned_modem"], dlr_url=d["dlr_url"], dlr_mask=int(d["dlr_mask"]),
        sender=d["sender"], states=states,
        resend=tuple(bool(h.get(f"r{s}")) for s in range(1, parts + 1)),
        begun_on=h.get("begun_on") or None)


class RedisStreams:
    """One host's connection to the fleet's queue."""

    def __init__(self, url: str, group: str, host_id: str, lease_seconds: float) -> None:
        self.url = url
        self.group = group
        self.host_id = host_id
        self.prefix = f"mb:{group}:"
        self.lease_ms = int(lease_seconds * 1000)
        # typed Any: redis-py's stubs type every reply as bytes | str whatever decode_responses says.
        # One retry on a fresh connection after a connection error: a pooled connection that a Redis restart
        # closed fails its next command. Every step here may run twice (see scripts.py).
        self._redis: Any = aioredis.Redis.from_url(
            url, decode_responses=True, socket_connect_timeout=2.0,
            socket_timeout=max(5.0, lease_seconds / 3), health_check_interval=10,
            retry=Retry(NoBackoff(), 1), retry_on_error=[RedisConnectionError, RedisTimeoutError])
        self._submit = self._redis.register_script(scripts.SUBMIT)
        self._claim = self._redis.register_script(scripts.CLAIM)
        self._takeover = self._redis.register_script(scripts.TAKEOVER)
        self._fence = self._redis.register_script(scripts.FENCE)
        self._report = self._redis.register_script(scripts.REPORT)
        self._renew = self._redis.register_script(scripts.RENEW)
        self._release = self._redis.register_script(scripts.RELEASE)
        self._heartbeat = self._redis.register_script(scripts.HEARTBEAT)
        self._reap = self._redis.register_script(scripts.REAP)
        self._groups: set[str] = set()  # streams whose consumer group this host made sure of
        self.instance = uuid.uuid4().hex  # this process: tells a restart from another host with our id
        self._run_id = ""  # the Redis process the start check saw

    def _stream(self, lane: str) -> str:
        return f"{self.prefix}lane:{lane}"

    def _job(self, job_id: str) -> str:
        return f"{self.prefix}job:{job_id}"

    # -- start ---------------------------------------------------------------------------------------

    async def check(self, modem_ids: Sequence[str]) -> None:
        try:
            info = await self._redis.info("server")
            config: dict[str, str] = {}
            for key in ("appendonly", "appendfsync", "maxmemory", "maxmemory-policy"):
                config.update(await self._redis.config_get(key))
        except ResponseError as exc:  # CONFIG renamed or forbidden: the persistence cannot be checked
            raise FleetMisconfigured(f"Redis at {self.url} does not let us check its persistence "
                                     f"(CONFIG GET: {exc}); the fleet needs appendonly yes and appendfsync "
                                     "always, see docs/fleet.md") from exc
        except RedisError as exc:
            raise FleetUnavailable(f"Redis at {self.url}: {exc}") from exc
        self._run_id = str(info.get("run_id", ""))
        version = tuple(int(x) for x in str(info.get("redis_version", "0.0")).split(".")[:2])
        problems = []
        if version < MIN_VERSION:
            problems.append(f"version {info.get('redis_version')} (needs 6.2 or later)")
        if config.get("appendonly") != "yes":
            problems.append(f"appendonly {config.get('appendonly')!r} (needs 'yes')")
        if config.get("appendfsync") != "always":
            problems.append(f"appendfsync {config.get('appendfsync')!r} (needs 'always': 'everysec' loses "
                            "up to a second of acknowledged sends in a power cut)")
        if config.get("maxmemory", "0") != "0" and config.get("maxmemory-policy") != "noeviction":
            problems.append(f"maxmemory-policy {config.get('maxmemory-policy')!r} with a maxmemory (needs "
                            "'noeviction': an evicted job is a lost message)")
        if problems:
            raise FleetMisconfigured(f"Redis at {self.url} would lose acknowledged writes: "
                                     + "; ".join(problems) + " (see docs/fleet.md)")
        try:
            for lane in ("any", *(f"m:{m}" for m in modem_ids)):
                await self._ensure_group(self._stream(lane))
            await self._check_unique(modem_ids)
        except RedisError as exc:
            raise FleetUnavailable(f"Redis at {self.url}: {exc}") from exc

    async def _check_unique(self, modem_ids: Sequence[str]) -> None:
        """No other live process heartbeats under this host id, and no other live host has one of our modem
        ids (copied configs, cloned SD cards with one host name): two holders of one id would both pass
        the fence. A restart of this host after a crash waits until its old heartbeat is a lease old."""
        now_s, now_us = await self._redis.time()
        now = now_s * 1000 + now_us // 1000
        seen = await self._redis.hgetall(f"{self.prefix}seen")
        instance = await self._redis.hget(f"{self.prefix}instance", self.host_id)
        modems = await self._redis.hgetall(f"{self.prefix}modems")

        def alive(host: str) -> float | None:
            at = int(seen.get(host, "0"))
            return (now - at) / 1000 if now - at < self.lease_ms else None

        age = alive(self.host_id)
        if age is not None and instance not in (None, self.instance):
            raise FleetUnavailable(
                f"host_id {self.host_id!r}: another process heartbeated under it {age:.1f} s ago; waiting "
                f"until that is {self.lease_ms / 1000:g} s old (a restart after a crash), or for ever if "
                "another host has this id: give each host its own [fleet] host_id")
        for m in modem_ids:
            other = modems.get(m)
            if other not in (None, self.host_id) and alive(other) is not None:
                raise FleetUnavailable(f"modem id {m!r} belongs to live host {other!r}: modem ids must be "
                                       "unique in the fleet")

    async def _ensure_group(self, stream: str) -> None:
        if stream in self._groups:
            return
        try:
            await self._redis.xgroup_create(stream, self.group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._groups.add(stream)

    # -- accepting -----------------------------------------------------------------------------------

    async def submit(self, jobs: Sequence[FleetJob], accepted: SendAccepted, client_id: str | None,
                     fingerprint: str | None) -> SubmitOutcome:
        record = json.dumps({"fingerprint": fingerprint, "accepted": to_wire(accepted)})
        args: list[Any] = [self.prefix, record, CLIENT_ID_TTL, len(jobs)]
        for job in jobs:
            args += [job.job_id, lane_of(job), job_data(job), len(job.pdus), expires_ms(job)]
        keys = [f"{self.prefix}cid:{client_id}"] if client_id is not None else []
        try:
            prev = await self._submit(keys=keys, args=args)
        except RedisError as exc:
            raise FleetUnavailable(f"Redis: {exc}") from exc
        if prev is None:
            return SubmitOutcome(accepted)
        earlier = json.loads(prev)
        first = from_wire(SendAccepted, earlier["accepted"])
        return SubmitOutcome(SendAccepted(first.message_id, first.recipients, first.encoding, first.parts,
                                          duplicate=True), fingerprint=earlier["fingerprint"])

    # -- taking work ---------------------------------------------------------------------------------

    async def take(self, modem_id: str, block: float,
                   unknown_policy: Literal["resend", "fail"]) -> list[Taken]:
        lanes = (f"m:{modem_id}", "any")
        try:
            for lane in lanes:
                await self._ensure_group(self._stream(lane))
            for lane in lanes:
                taken = await self._take_expired(lane, modem_id, unknown_policy)
                if taken is not None:
                    return [taken]
            read = await self._redis.xreadgroup(
                self.group, self.host_id, {self._stream(lane): ">" for lane in lanes}, count=1,
                block=max(1, int(block * 1000)) if block > 0 else None)
            out = []
            for stream, entries in read or ():
                for entry_id, fields in entries:
                    job_id = fields.get("job", "")
                    ok = await self._claim(keys=[self._job(job_id)], args=[
                        self.host_id, modem_id, self.lease_ms, stream, self.group, entry_id, unknown_policy,
                        self.prefix, job_id, DONE_TTL * 1000, self.instance])
                    if ok:
                        out.append(Taken(await self._load(job_id), modem=modem_id))
            return out
        except RedisError as exc:
            raise FleetUnavailable(f"Redis: {exc}") from exc

    async def _load(self, job_id: str) -> FleetJob:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(self._job(job_id))
            pipe.get(f"{self.prefix}data:{job_id}")
            h, data = await pipe.execute()
        return job_from_hash(h, data)

    async def _take_expired(self, lane: str, modem_id: str, policy: str) -> Taken | None:
        """A job of `lane` whose holder stopped renewing its lease, taken over; None if there is none.
        XPENDING IDLE finds it however many live leases come before it."""
        stream = self._stream(lane)
        for _ in range(8):  # stale entries (finished jobs) are dropped on the way
            idle = await self._redis.xpending_range(stream, self.group, "-", "+", 1, idle=self.lease_ms)
            if not idle:
                return None
            entry_id = idle[0]["message_id"]
            fields = await self._redis.xrange(stream, entry_id, entry_id)
            job_id = fields[0][1].get("job", "") if fields else ""
            verdict, detail, modem = await self._takeover(keys=[self._job(job_id)], args=[
                self.host_id, modem_id, self.lease_ms, stream, self.group, entry_id, policy, self.prefix,
                job_id, DONE_TTL * 1000, self.instance])
            if verdict == "taken":
                log.warning("fleet: job %s taken over from host %s (its lease expired) for modem %s", job_id,
                            detail or "?", modem)
                return Taken(await self._load(job_id), taken_over_from=detail or None, modem=modem)
            if verdict == "relaned":
                log.warning("fleet: job %s waits for %s, the modem that began it", job_id, detail)
            if verdict in ("held", "busy"):
                return None
        return None

    async def fence(self, job_id: str, seq: int, modem_id: str) -> int:
        try:
            return int(await self._fence(keys=[self._job(job_id)], args=[
                self.host_id, seq, modem_id, self.lease_ms, self.instance, self.prefix, self.group]))
        except RedisError as exc:
            raise FleetUnavailable(f"Redis: {exc}") from exc

    async def report(self, reports: Mapping[str, Sequence[PartReport]]) -> None:
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for job_id, parts in reports.items():
                    args: list[Any] = [self.host_id, self.prefix, self.group, DONE_TTL * 1000, job_id]
                    for p in parts:
                        args += [p.seq, p.state, int(p.resent), p.attempt]
                    await self._report(keys=[self._job(job_id)], args=args, client=pipe)
                await pipe.execute()
        except RedisError as exc:
            raise FleetUnavailable(f"Redis: {exc}") from exc

    async def renew(self, job_ids: Sequence[str]) -> set[str]:
        if not job_ids:
            return set()
        try:
            lost = await self._renew(keys=[self._job(j) for j in job_ids],
                                     args=[self.host_id, self.lease_ms, self.prefix, self.group,
                                           self.instance])
        except RedisError as exc:
            raise FleetUnavailable(f"Redis: {exc}") from exc
        return {job_ids[int(i) - 1] for i in lost}

    async def release(self, job_ids: Sequence[str]) -> set[str]:
        if not job_ids:
            return set()
        try:
            back = await self._release(keys=[self._job(j) for j in job_ids],
                                       args=[self.host_id, self.prefix, self.group])
        except RedisError as exc:
            raise FleetUnavailable(f"Redis: {exc}") from exc
        return {job_ids[int(i) - 1] for i in back}

    async def reap(self) -> int:
        try:
            lanes = await self._redis.smembers(f"{self.prefix}lanes") | {"any"}
            n = 0
            for lane in sorted(lanes):
                n += int(await self._reap(keys=[], args=[self.prefix, self.group, lane, REAP_BATCH,
                                                         DONE_TTL * 1000, UNKNOWN_MEMORY * 1000]))
            return n
        except RedisError as exc:
            raise FleetUnavailable(f"Redis: {exc}") from exc

    # -- the fleet's view ----------------------------------------------------------------------------

    async def heartbeat(self, status: BridgeStatus, modem_ids: Sequence[str]) -> set[str]:
        try:
            fleet = await self._heartbeat(keys=[], args=[
                self.prefix, self.host_id, json.dumps(to_wire(status)), self.lease_ms, self.instance,
                *modem_ids])
        except RedisError as exc:
            raise FleetUnavailable(f"Redis: {exc}") from exc
        if fleet == ["conflict"]:
            raise FleetConflict(f"host_id {self.host_id!r}: another process heartbeats under it: give each "
                                "host its own [fleet] host_id (sends are refused until it is alone)")
        return set(fleet)

    async def same_server(self) -> bool:
        """Still the Redis process the start check saw (a restart may have come back with other settings)."""
        try:
            run_id = str((await self._redis.info("server")).get("run_id", ""))
        except RedisError as exc:
            raise FleetUnavailable(f"Redis: {exc}") from exc
        return run_id == self._run_id

    async def view(self) -> FleetView:
        try:
            now_s, now_us = await self._redis.time()
            now = now_s + now_us / 1e6
            hosts = await self._redis.hgetall(f"{self.prefix}hosts")
            seen = await self._redis.hgetall(f"{self.prefix}seen")
            modems = await self._redis.hgetall(f"{self.prefix}modems")
            lanes = sorted(await self._redis.smembers(f"{self.prefix}lanes") | {"any"})
            async with self._redis.pipeline(transaction=False) as pipe:
                for lane in lanes:
                    pipe.xlen(self._stream(lane))
                    pipe.xrange(self._stream(lane), "-", "+", count=1)
                    pipe.xpending(self._stream(lane), self.group)
                pipe.zremrangebyscore(f"{self.prefix}unknown", "-inf", (now - UNKNOWN_MEMORY) * 1000)
                pipe.zcard(f"{self.prefix}unknown")
                replies = await pipe.execute(raise_on_error=False)
        except RedisError as exc:
            raise FleetUnavailable(f"Redis: {exc}") from exc
        depth = leased = 0
        oldest: float | None = None
        per_lane: dict[str, int] = {}
        for i, lane in enumerate(lanes):
            n, first, pending = replies[3 * i: 3 * i + 3]
            n = n if isinstance(n, int) else 0
            per_lane[lane.replace("m:", "modem:", 1)] = n
            depth += n
            if isinstance(pending, dict):
                leased += int(pending.get("pending", 0) or 0)
            if isinstance(first, list) and first:
                created = int(str(first[0][0]).split("-")[0]) / 1000
                oldest = created if oldest is None else min(oldest, created)
        unknown = replies[-1] if isinstance(replies[-1], int) else 0
        out = []
        for host in sorted(set(hosts) | set(seen)):
            at = int(seen.get(host, "0")) / 1000
            status: BridgeStatus | None
            try:
                status = from_wire(BridgeStatus, json.loads(hosts[host])) if host in hosts else None
            except (ValueError, WireError):
                status = None
            out.append(FleetHost(host, datetime.fromtimestamp(at, UTC), gone=now - at > self.lease_ms / 1000,
                                 status=status,
                                 modems=tuple(sorted(m for m, h in modems.items() if h == host))))
        queue = FleetQueue(depth=depth, oldest_age=None if oldest is None else max(0.0, now - oldest),
                           leased=leased, unknown=unknown, lanes=per_lane)
        return FleetView(group=self.group, host_id=self.host_id, hosts=tuple(out), queue=queue)

    async def close(self) -> None:
        await self._redis.aclose()
