"""The shared queue on a real redis-server: each Lua step, leases and takeovers, the persistence check."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from modembridge.fleet import RedisStreams
from modembridge.model import SendAccepted
from modembridge.model.fleet import FleetJob, FleetMisconfigured, FleetUnavailable, PartReport

from .redis_server import RedisServer


def job(message_id: str = "m1", index: int = 0, parts: int = 2, pinned: str | None = None) -> FleetJob:
    return FleetJob(job_id=f"{message_id}.{index}", message_id=message_id, recipient=f"+25470000000{index}",
                    pdus=tuple((f"00{i:02X}", 10 + i) for i in range(parts)), text="hello", encoding="gsm7",
                    source="api", created_at=1.0, expires_at=None, pinned_modem=pinned)


def accepted(j: FleetJob) -> SendAccepted:
    return SendAccepted(j.message_id, (j.recipient,), "gsm7", len(j.pdus))


async def host(redis: RedisServer, name: str, lease: float = 30.0, modems: tuple[str, ...] = ("a",)
               ) -> RedisStreams:
    q = RedisStreams(redis.url, "t", name, lease)
    await q.check(modems)
    return q


async def test_a_job_goes_from_submit_to_done_and_leaves_its_stream(redis: RedisServer) -> None:
    h1 = await host(redis, "h1")
    j = job()
    out = await h1.submit([j], accepted(j), None, None)
    assert out.accepted.message_id == "m1" and not out.accepted.duplicate
    view = await h1.view()
    assert (view.queue.depth, view.queue.leased) == (1, 0)
    [taken] = await h1.take("a", 0, "fail")
    assert taken.job.pdus == j.pdus and taken.job.states == ("queued", "queued")
    assert (await h1.view()).queue.leased == 1
    assert await h1.fence(j.job_id, 1, "a")
    await h1.report({j.job_id: [PartReport(1, "sent")]})
    assert (await h1.view()).queue.depth == 1  # part 2 is still open
    assert await h1.fence(j.job_id, 2, "a")
    await h1.report({j.job_id: [PartReport(2, "failed")]})
    view = await h1.view()
    assert (view.queue.depth, view.queue.leased, view.queue.oldest_age) == (0, 0, None)
    async with redis.client() as r:
        h = await r.hgetall("mb:t:job:m1.0")
        assert (h["state"], h["p1"], h["p2"], h["begun_on"]) == ("done", "sent", "failed", "a")
        assert await r.ttl("mb:t:job:m1.0") > 0  # a finished job's record expires
    assert await h1.take("a", 0, "fail") == []
    await h1.close()


async def test_a_client_id_is_taken_fleet_wide(redis: RedisServer) -> None:
    h1, h2 = await host(redis, "h1"), await host(redis, "h2")
    j1, j2 = job("m1"), job("m2")
    await h1.submit([j1], accepted(j1), "order-7", "fp1")
    again = await h2.submit([j2], accepted(j2), "order-7", "fp1")
    assert again.accepted.duplicate and again.accepted.message_id == "m1" and again.fingerprint == "fp1"
    assert (await h2.view()).queue.depth == 1  # the second was not queued
    await h1.close()
    await h2.close()


async def test_only_the_pinned_modem_takes_a_pinned_job(redis: RedisServer) -> None:
    h1 = await host(redis, "h1", modems=("a",))
    h2 = await host(redis, "h2", modems=("b",))
    j = job(pinned="b")
    await h1.submit([j], accepted(j), None, None)
    assert await h1.take("a", 0, "fail") == []
    [taken] = await h2.take("b", 0, "fail")
    assert taken.job.pinned_modem == "b"
    await h1.close()
    await h2.close()


async def test_an_idle_modem_waits_on_the_queue_and_wakes_for_a_submit(redis: RedisServer) -> None:
    h1, h2 = await host(redis, "h1"), await host(redis, "h2")
    waiting = asyncio.create_task(h2.take("a", 5.0, "fail"))
    await asyncio.sleep(0.1)
    j = job()
    await h1.submit([j], accepted(j), None, None)
    [taken] = await asyncio.wait_for(waiting, 4.0)
    assert taken.job.job_id == j.job_id
    await h1.close()
    await h2.close()


@pytest.mark.parametrize(("policy", "expected"), [("fail", "unknown"), ("resend", "queued")])
async def test_a_lease_that_expires_is_taken_over_with_the_unknown_policy(
        redis: RedisServer, policy: str, expected: str) -> None:
    h1, h2 = await host(redis, "h1", lease=0.3), await host(redis, "h2", lease=0.3)
    j = job(parts=1)
    await h1.submit([j], accepted(j), None, None)
    await h1.take("a", 0, "fail")
    assert await h1.fence(j.job_id, 1, "a")  # then h1 dies inside AT+CMGS
    assert await h2.take("a", 0, policy) == []  # the lease still runs
    await asyncio.sleep(0.4)
    taken = await h2.take("a", 0, policy)  # type: ignore[arg-type]
    if expected == "unknown":
        assert taken == []  # every part is final: nothing left to send, the job is done
        view = await h2.view()
        assert (view.queue.depth, view.queue.unknown) == (0, 1)
    else:
        [t] = taken
        assert t.taken_over_from == "h1" and t.job.states == ("queued",) and t.job.resend == (True,)
    assert not await h1.fence(j.job_id, 1, "a")  # the old owner, back, may not send it
    await h1.close()
    await h2.close()


async def test_a_job_begun_on_one_modem_waits_for_that_modem(redis: RedisServer) -> None:
    h1 = await host(redis, "h1", lease=0.3, modems=("a",))
    h2 = await host(redis, "h2", lease=0.3, modems=("b",))
    j = job(parts=2)
    await h1.submit([j], accepted(j), None, None)
    await h1.take("a", 0, "fail")
    assert await h1.fence(j.job_id, 1, "a")
    await h1.report({j.job_id: [PartReport(1, "sent")]})
    await asyncio.sleep(0.4)
    assert await h2.take("b", 0, "fail") == []  # part 2 must not go through another SIM
    view = await h2.view()
    assert view.queue.lanes.get("modem:a") == 1 and view.queue.lanes.get("any") == 0
    h1b = await host(redis, "h1", lease=0.3, modems=("a",))  # h1 back
    [t] = await h1b.take("a", 0, "fail")
    assert t.job.states == ("sent", "queued") and t.job.begun_on == "a"
    for q in (h1, h2, h1b):
        await q.close()


async def test_renewing_keeps_a_lease_and_tells_a_host_what_it_lost(redis: RedisServer) -> None:
    h1, h2 = await host(redis, "h1", lease=0.4), await host(redis, "h2", lease=0.4)
    j1, j2 = job("m1", parts=1), job("m2", parts=1)
    await h1.submit([j1, j2], accepted(j1), None, None)
    await h1.take("a", 0, "fail")
    await h1.take("a", 0, "fail")
    for _ in range(4):  # h1 renews m1 only, for longer than a lease
        await asyncio.sleep(0.15)
        assert await h1.renew(["m1.0"]) == set()
    [t] = await h2.take("a", 0, "fail")
    assert t.job.job_id == "m2.0" and t.taken_over_from == "h1"
    assert await h1.renew(["m1.0", "m2.0"]) == {"m2.0"}
    await h1.close()
    await h2.close()


async def test_a_released_job_goes_back_to_the_queue(redis: RedisServer) -> None:
    h1, h2 = await host(redis, "h1"), await host(redis, "h2")
    j = job(parts=1)
    await h1.submit([j], accepted(j), None, None)
    await h1.take("a", 0, "fail")
    assert await h2.take("a", 0, "fail") == []
    await h1.release([j.job_id])
    [t] = await h2.take("a", 0, "fail")
    assert t.job.job_id == j.job_id and t.taken_over_from is None
    assert not await h1.fence(j.job_id, 1, "a")
    await h1.close()
    await h2.close()


async def test_a_report_of_sent_beats_an_unknown_set_by_a_takeover(redis: RedisServer) -> None:
    h1, h2 = await host(redis, "h1", lease=0.3), await host(redis, "h2", lease=0.3)
    j = job(parts=1)
    await h1.submit([j], accepted(j), None, None)
    await h1.take("a", 0, "fail")
    await h1.fence(j.job_id, 1, "a")
    await asyncio.sleep(0.4)
    assert await h2.take("a", 0, "fail") == []  # unknown: done
    assert (await h2.view()).queue.unknown == 1
    await h1.report({j.job_id: [PartReport(1, "sent")]})  # h1 had the answer after all
    assert (await h2.view()).queue.unknown == 0
    async with redis.client() as r:
        assert await r.hget("mb:t:job:m1.0", "p1") == "sent"
    await h1.close()
    await h2.close()


async def test_heartbeats_show_every_host_and_a_silent_one_as_gone(redis: RedisServer) -> None:
    from tests.http.httpfakes import FakeGateway

    status = FakeGateway().status()
    h1 = await host(redis, "h1", lease=0.3, modems=("a",))
    h2 = await host(redis, "h2", lease=0.3, modems=("b",))
    assert await h1.heartbeat(status, ["a"]) == {"a"}
    assert await h2.heartbeat(status, ["b"]) == {"a", "b"}
    await asyncio.sleep(0.35)
    await h2.heartbeat(status, ["b"])
    view = await h2.view()
    hosts = {h.host_id: h for h in view.hosts}
    assert hosts["h1"].gone and not hosts["h2"].gone
    assert hosts["h1"].modems == ("a",) and hosts["h2"].status is not None
    assert hosts["h2"].status.modems["m1"].signal_dbm == -71
    await h1.close()
    await h2.close()


@pytest.mark.parametrize("options", [
    ("--appendonly", "no"),
    ("--appendonly", "yes", "--appendfsync", "everysec"),
    ("--appendonly", "yes", "--appendfsync", "always", "--maxmemory", "100mb",
     "--maxmemory-policy", "allkeys-lru"),
])
async def test_a_redis_that_would_lose_writes_is_refused(tmp_path: Path, options: tuple[str, ...]) -> None:
    async with RedisServer(tmp_path / "r", *options) as server:
        q = RedisStreams(server.url, "t", "h1", 30)
        with pytest.raises(FleetMisconfigured, match="would lose acknowledged writes"):
            await q.check(["a"])
        await q.close()


async def test_redis_away_is_unavailable_not_a_crash(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "r")
    await server.start()
    q = await host(server, "h1")
    await server.stop()
    j = job()
    with pytest.raises(FleetUnavailable):
        await q.submit([j], accepted(j), None, None)
    with pytest.raises(FleetUnavailable):
        await q.take("a", 0, "fail")
    await server.start()  # the same port and AOF: what was written before is still there
    await q.submit([j], accepted(j), None, None)
    assert (await q.view()).queue.depth == 1
    await q.close()
    await server.stop()


async def test_a_hosts_own_expired_job_stays_on_its_modem_and_no_other_modem_may_fence_it(
        redis: RedisServer) -> None:
    a = await host(redis, "a", lease=0.3, modems=("a1", "a2"))
    j = job(parts=2)
    await a.submit([j], accepted(j), None, None)
    [t] = await a.take("a1", 0, "fail")
    assert t.modem == "a1"
    await asyncio.sleep(0.4)  # Redis was away longer than a lease: a2's take finds a's own expired job
    [again] = await a.take("a2", 0, "fail")
    assert again.modem == "a1" and again.taken_over_from == "a"
    assert await a.fence(j.job_id, 1, "a1")
    assert not await a.fence(j.job_id, 1, "a2")  # the job began on a1: its parts go through a1 only
    assert not await a.fence(j.job_id, 2, "a2")
    await a.close()


async def test_a_job_whose_part_was_fenced_is_not_released(redis: RedisServer) -> None:
    h1, h2 = await host(redis, "h1"), await host(redis, "h2")
    j1, j2 = job("m1", parts=2), job("m2", parts=1)
    await h1.submit([j1, j2], accepted(j1), None, None)
    await h1.take("a", 0, "fail")
    await h1.take("a", 0, "fail")
    assert await h1.fence("m1.0", 1, "a")
    assert await h1.release(["m1.0", "m2.0"]) == {"m2.0"}  # m1.0 is begun: it stays with h1
    [t] = await h2.take("a", 0, "fail")
    assert t.job.job_id == "m2.0"
    assert await h2.take("a", 0, "fail") == []
    await h1.close()
    await h2.close()


async def test_an_expired_lease_is_found_behind_many_live_ones(redis: RedisServer) -> None:
    live, dead, taker = [await host(redis, n, lease=0.5) for n in ("live", "dead", "taker")]
    jobs = [job(f"m{i:02d}", parts=1) for i in range(13)]
    await live.submit(jobs, accepted(jobs[0]), None, None)
    for _ in range(12):
        await live.take("a", 0, "fail")
    await dead.take("a", 0, "fail")  # the 13th, after 12 others in the pending list
    for _ in range(4):
        await asyncio.sleep(0.2)
        assert await live.renew([f"m{i:02d}.0" for i in range(12)]) == set()
    [t] = await taker.take("a", 0, "fail")
    assert t.job.job_id == "m12.0" and t.taken_over_from == "dead"
    for q in (live, dead, taker):
        await q.close()


async def test_a_submit_that_runs_twice_does_not_reset_a_taken_job(redis: RedisServer) -> None:
    h1, h2 = await host(redis, "h1"), await host(redis, "h2")
    j = job(parts=2)
    await h1.submit([j], accepted(j), None, None)
    await h2.take("a", 0, "fail")
    assert await h2.fence(j.job_id, 1, "a")
    await h1.submit([j], accepted(j), None, None)  # the same script again (a retry after a lost answer)
    assert await h1.take("a", 0, "fail") == []
    assert await h2.fence(j.job_id, 2, "a")
    await h1.close()
    await h2.close()


async def test_a_part_already_sent_is_never_fenced_again(redis: RedisServer) -> None:
    h1 = await host(redis, "h1")
    j = job(parts=2)
    await h1.submit([j], accepted(j), None, None)
    await h1.take("a", 0, "fail")
    assert await h1.fence(j.job_id, 1, "a")
    await h1.report({j.job_id: [PartReport(1, "sent")]})
    assert not await h1.fence(j.job_id, 1, "a")
    await h1.close()


async def test_a_second_live_process_with_the_same_host_or_modem_id_is_held_back(redis: RedisServer) -> None:
    from tests.http.httpfakes import FakeGateway

    status = FakeGateway().status()
    first = await host(redis, "pi", lease=0.5, modems=("gsm0",))
    await first.heartbeat(status, ["gsm0"])
    twin = RedisStreams(redis.url, "t", "pi", 0.5)
    with pytest.raises(FleetUnavailable, match="host_id 'pi'"):
        await twin.check(["gsm1"])
    other = RedisStreams(redis.url, "t", "pi2", 0.5)
    with pytest.raises(FleetUnavailable, match="modem id 'gsm0' belongs to live host 'pi'"):
        await other.check(["gsm0"])
    await asyncio.sleep(0.6)  # the first went quiet (crashed): its restart, or the others, may go on
    await twin.check(["gsm1"])
    await other.check(["gsm0"])
    for q in (first, twin, other):
        await q.close()


async def test_housekeeping_fails_queued_jobs_past_their_expiry(redis: RedisServer) -> None:
    import dataclasses

    h1 = await host(redis, "h1", modems=("a",))
    old = dataclasses.replace(job("old", parts=1, pinned="gone0"), expires_at=1.0)  # a modem nobody runs
    fresh = job("fresh", parts=1, pinned="gone0")
    await h1.submit([old, fresh], accepted(old), None, None)
    assert await h1.reap() == 1
    view = await h1.view()
    assert view.queue.lanes["modem:gone0"] == 1
    async with redis.client() as r:
        assert await r.hget("mb:t:job:old.0", "p1") == "failed"
        assert not await r.exists("mb:t:data:old.0")  # a finished job keeps no PDUs
    await h1.close()


async def test_a_job_whose_only_attempt_surely_failed_may_go_to_another_modem(redis: RedisServer) -> None:
    h1, h2 = await host(redis, "h1", modems=("a",)), await host(redis, "h2", modems=("b",))
    j, k = job("m1", parts=1), job("m2", parts=1)
    await h1.submit([j, k], accepted(j), None, None)
    await h1.take("a", 0, "fail")
    await h1.take("a", 0, "fail")
    for one, resent in ((j, False), (k, True)):
        attempt = await h1.fence(one.job_id, 1, "a")
        assert attempt == 1
        await h1.report({one.job_id: [PartReport(1, "queued", resent=resent, attempt=attempt)]})
    assert await h1.release(["m1.0", "m2.0"]) == {"m1.0"}  # m2's AT+CMGS may have gone out: it stays
    [t] = await h2.take("b", 0, "fail")
    assert t.job.job_id == "m1.0"
    assert await h2.fence("m1.0", 1, "b")
    await h1.close()
    await h2.close()


async def test_a_late_copy_of_an_old_retry_report_cannot_undo_a_newer_fence(redis: RedisServer) -> None:
    h1, h2 = await host(redis, "h1", lease=0.3), await host(redis, "h2", lease=0.3)
    j = job(parts=1)
    await h1.submit([j], accepted(j), None, None)
    await h1.take("a", 0, "fail")
    first = await h1.fence(j.job_id, 1, "a")
    await h1.report({j.job_id: [PartReport(1, "queued", attempt=first)]})  # +CMS ERROR: retried
    second = await h1.fence(j.job_id, 1, "a")  # attempt 2: AT+CMGS goes out
    assert (first, second) == (1, 2)
    await h1.report({j.job_id: [PartReport(1, "queued", attempt=first)]})  # the first report, late
    await asyncio.sleep(0.4)  # h1 dies
    assert await h2.take("a", 0, "fail") == []  # part 1 is unknown, not sent again
    assert (await h2.view()).queue.unknown == 1
    await h1.close()
    await h2.close()


async def test_only_the_process_that_holds_a_job_fences_it_and_a_restart_adopts_it(
        redis: RedisServer) -> None:
    first = await host(redis, "pi", lease=30)
    j = job(parts=2)
    await first.submit([j], accepted(j), None, None)
    await first.take("a", 0, "fail")
    clone = RedisStreams(redis.url, "t", "pi", 30)  # the same host id, another process
    assert not await clone.fence(j.job_id, 1, "a")
    assert await first.fence(j.job_id, 1, "a")
    restarted = RedisStreams(redis.url, "t", "pi", 30)  # after a crash, once its start check passed
    assert await restarted.renew([j.job_id]) == set()
    assert await restarted.fence(j.job_id, 2, "a")
    assert not await first.fence(j.job_id, 2, "a")
    for q in (first, clone, restarted):
        await q.close()
