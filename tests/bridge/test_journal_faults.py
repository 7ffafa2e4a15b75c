"""A journal that fails to commit (disk full, I/O error) must never cost a message: nothing is deleted from
the SIM, sent twice or marked wrongly, and every pipeline carries on once the journal works again."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from modembridge.model import SendRequest
from modembridge.store import StoreError

from .conftest import Stack, inbound_state, wait_until
from .faults import FailEach, RollbackOnce, fail_commits, once


def _touches(table: str) -> Any:
    return lambda statements: any(table in sql for sql in statements)


async def test_a_failed_commit_leaves_the_sms_on_the_sim_and_the_reader_carries_on(make_stack: Any) -> None:
    stack: Stack = await make_stack()
    await stack.wait_ready()
    conn = fail_commits(stack.store, once(_touches("INSERT INTO in_part")))
    await stack.sim.inject_text("+254733000001", "survives a full disk")
    await wait_until(lambda: conn.failures == 1 and not stack.sim.storage()["memories"]["SM"])
    await stack.sim.inject_text("+254733000001", "and the next one")  # the reader is still alive
    await stack.router.wait(lambda: any(r["text"] == "and the next one" for r in stack.router.delivered()))
    first = [r for r in stack.router.delivered() if r["text"] == "survives a full disk"]
    # It may have reached the router before its failed commit (early delivery), and again after the
    # re-read: always under the same message id, so the site can tell it is the same SMS.
    assert first and len({r["message_id"] for r in first}) == 1
    await wait_until(lambda: inbound_state(stack.store, first[0]["message_id"]) == "delivered")


async def test_a_failed_commit_after_cmgs_is_recorded_again_not_left_sending(make_stack: Any) -> None:
    stack: Stack = await make_stack()
    await stack.wait_ready()
    conn = fail_commits(stack.store, once(lambda sql: any("state = 'sent'" in s for s in sql)))
    accepted = await stack.bridge.submit(SendRequest(recipients=("+254733000002",), text="once only"))
    await stack.sim.wait_submitted(1)

    def state() -> str:
        view = stack.store.views.outbound(accepted.message_id)
        assert view is not None
        return str(view.recipients[0].parts[0].state)

    await wait_until(lambda: state() == "sent" and conn.failures == 1)
    after = await stack.bridge.submit(SendRequest(recipients=("+254733000003",), text="the sender lives"))
    await stack.sim.wait_submitted(2)
    await wait_until(lambda: stack.store.views.outbound(after.message_id).state == "sent")
    assert [r["text"] for r in stack.sim.submitted()] == ["once only", "the sender lives"]


async def test_a_part_rolled_back_by_another_writers_failed_commit_stays_on_the_sim(make_stack: Any) -> None:
    """The reader hands a new SMS to the router before journalling it (the fast path), writes its rows and
    waits for its COMMIT; another writer's COMMIT fails in between and rolls the shared transaction back,
    the part's rows included. The reader must learn that *its* transaction failed: the SMS stays on the
    SIM and comes again."""
    stack: Stack = await make_stack()
    await stack.wait_ready()
    conn = fail_commits(stack.store, once(_touches("modem_fact")))
    inbox = stack.store.inbox
    add_part = inbox.add_part

    def other_writer() -> None:  # e.g. a driver remembering a SIM fact, committing synchronously
        stack.store.facts.set("gsm0", "probe", "x", 0.0)
        with contextlib.suppress(StoreError):
            stack.store.commit_now()

    def racing_add_part(**kwargs: Any) -> Any:
        result = add_part(**kwargs)
        asyncio.get_running_loop().call_soon(other_writer)  # runs while the reader waits for its COMMIT
        return result

    inbox.add_part = racing_add_part  # type: ignore[method-assign]
    await stack.sim.inject_text("+254733000009", "rolled back, not lost")
    await wait_until(lambda: conn.failures == 1)
    inbox.add_part = add_part  # type: ignore[method-assign]
    text = "rolled back, not lost"
    await stack.router.wait(lambda: any(r["text"] == text for r in stack.router.delivered()))
    message_id = next(r["message_id"] for r in stack.router.delivered() if r["text"] == text)

    # the early hand-off reached the router; the row comes with the re-read from the SIM, same id
    await wait_until(lambda: inbound_state(stack.store, message_id) == "delivered", 5.0)
    await wait_until(lambda: not stack.sim.storage()["memories"]["SM"])


async def test_a_sent_parts_outcome_survives_a_failed_write_of_the_next_part(make_stack: Any) -> None:
    """The modem's answer to part A waits in the open transaction for the next commit; the next part's
    `sending` write fails half-way and takes the transaction down with it: A's outcome is written again
    (else A stays `sending`, becomes `unknown` at the next start, and may be sent twice)."""
    stack: Stack = await make_stack()
    await stack.wait_ready()
    stack.store.db = FailEach(stack.store.db, "state = 'sending', attempts", {2})  # type: ignore[assignment]
    a = await stack.bridge.submit(SendRequest(recipients=("+254733000012",), text="first"))
    b = await stack.bridge.submit(SendRequest(recipients=("+254733000013",), text="second"))
    await stack.sim.wait_submitted(2)
    await wait_until(lambda: stack.store.views.outbound(b.message_id).state == "sent")  # type: ignore[union-attr]
    await wait_until(lambda: stack.store.views.outbound(a.message_id).state == "sent")  # type: ignore[union-attr]
    assert [r["text"] for r in stack.sim.submitted()] == ["first", "second"]


async def test_a_sent_parts_outcome_survives_its_own_failed_write(make_stack: Any) -> None:
    stack: Stack = await make_stack()
    await stack.wait_ready()
    stack.store.db = FailEach(stack.store.db, "state = 'sent', mr", {1})  # type: ignore[assignment]
    a = await stack.bridge.submit(SendRequest(recipients=("+254733000014",), text="first"))
    await stack.sim.wait_submitted(1)
    await wait_until(lambda: stack.store.views.outbound(a.message_id).state == "sent")  # type: ignore[union-attr]
    view = stack.store.views.outbound(a.message_id)
    assert view is not None and view.recipients[0].parts[0].mr is not None  # a status report can match it


async def test_a_failed_commit_of_the_sending_mark_withholds_the_pdu_at_the_prompt(make_stack: Any) -> None:
    """AT+CMGS=<length> goes out while the part's `sending` mark commits, the PDU only once it committed.
    When that COMMIT fails the modem gets ESC at the prompt instead: nothing is sent, the part stays
    queued, and it goes out exactly once when the journal works again."""
    stack: Stack = await make_stack()
    await stack.wait_ready()
    sender = stack.bridge.senders["gsm0"]
    sender.paused = True  # the accept commits alone (else the mark may share its transaction)
    accepted = await stack.bridge.submit(SendRequest(recipients=("+254733000020",), text="withheld once"))
    conn = fail_commits(stack.store, once(lambda sql: any("state = 'sending'" in s for s in sql)))
    stack.sim.clear_traffic()
    sender.paused = False
    sender.wakeup.poke()
    await stack.sim.wait_submitted(1)
    await wait_until(lambda: stack.store.views.outbound(accepted.message_id).state == "sent")  # type: ignore[union-attr]
    assert conn.failures == 1
    assert [r["text"] for r in stack.sim.submitted()] == ["withheld once"]
    host = stack.sim.traffic_bytes("rx")  # what the modem received
    first, second = host.split(b"AT+CMGS=")[1:3]
    assert b"\x1b" in first and b"\x1a" not in first  # left with ESC, no PDU + Ctrl-Z
    assert b"\x1a" in second
    view = stack.store.views.outbound(accepted.message_id)
    assert view is not None and view.recipients[0].parts[0].attempts == 1  # the withheld try never counted


def _states(stack: Stack, message_id: str) -> list[str]:
    view = stack.store.views.outbound(message_id)
    assert view is not None
    return [str(r.parts[0].state) for r in view.recipients]


async def test_a_previous_outcome_that_cannot_be_written_holds_the_next_part_back(make_stack: Any) -> None:
    """Part A's `sent` fails to be written at its own save and again just before part B would go: B is not
    marked or sent until A's outcome is in the journal (else A stays `sending` for ever)."""
    stack: Stack = await make_stack()
    await stack.wait_ready()
    stack.store.db = FailEach(stack.store.db, "state = 'sent', mr", {1, 2})  # type: ignore[assignment]
    m = await stack.bridge.submit(SendRequest(recipients=("+254733000031", "+254733000032"), text="two"))
    await stack.sim.wait_submitted(2)
    await wait_until(lambda: _states(stack, m.message_id) == ["sent", "sent"])
    assert len(stack.sim.submitted()) == 2


async def test_a_previous_outcome_rolled_back_by_sqlite_itself_is_written_again(make_stack: Any) -> None:
    """Part A's outcome waits in the open transaction; another writer's statement fails and SQLite rolls
    that transaction back by itself. The sender learns it only when it marks part B: A's outcome is
    written again with B's mark, not dropped."""
    stack: Stack = await make_stack()
    await stack.wait_ready()
    sender = stack.bridge.senders["gsm0"]
    original = sender.send_part
    calls = 0

    async def send_part(part: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:  # A's outcome is in the open transaction now
            stack.store.db = RollbackOnce(stack.store.db, "modem_fact")  # type: ignore[assignment]
            with contextlib.suppress(Exception):
                stack.store.facts.set("gsm0", "probe", "x", 0.0)  # the other writer, failing
        await original(part)

    sender.send_part = send_part  # type: ignore[method-assign]
    m = await stack.bridge.submit(SendRequest(recipients=("+254733000041", "+254733000042"), text="two"))
    await stack.sim.wait_submitted(2)
    await wait_until(lambda: _states(stack, m.message_id) == ["sent", "sent"])
    assert calls >= 2 and len(stack.sim.submitted()) == 2


class CommitWatch:
    """The store's connection, noting at each COMMIT of a `sending` mark how many PDUs (Ctrl-Z) the modem
    had received by then."""

    def __init__(self, db: Any, stack: Stack) -> None:
        self._db, self.stack, self.since, self.pdus_at_commit = db, stack, [], []  # type: list[str], list[int]

    def execute(self, sql: str, *args: Any) -> Any:
        if sql.strip().upper() == "COMMIT":
            if any("state = 'sending'" in s for s in self.since):
                self.pdus_at_commit.append(self.stack.sim.traffic_bytes("rx").count(b"\x1a"))
            self.since = []
        else:
            self.since.append(sql)
        return self._db.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


async def test_each_pdu_is_written_only_after_its_sending_mark_commits(make_stack: Any) -> None:
    """The overlap of AT+CMGS=<length> with the COMMIT never lets a PDU out before its mark: at the COMMIT
    of part i's `sending`, the modem has received exactly the i PDUs before it."""
    stack: Stack = await make_stack()
    await stack.wait_ready()
    stack.sim.clear_traffic()
    watch = CommitWatch(stack.store.db, stack)
    stack.store.db = watch  # type: ignore[assignment]
    accepted = [await stack.bridge.submit(SendRequest(recipients=(f"+2547330001{i:02d}",), text=f"m{i}"))
                for i in range(10)]
    await stack.sim.wait_submitted(10)
    for a in accepted:
        await wait_until(lambda a=a: stack.store.views.outbound(a.message_id).state == "sent")  # type: ignore[misc, union-attr]
    assert watch.pdus_at_commit == list(range(10))
