"""ADMPClientSync against the live relay: every method, subscribe and messages() on a background thread."""

from __future__ import annotations

import threading
import time
from typing import Iterator, List

import pytest

from agent_dispatch import ADMPClientSync, Message, NotFoundError, TimeoutError

from .conftest import Agent, Relay

TRANSPORTS = ["websocket", "poll"]


@pytest.fixture
def sender(relay: Relay, alice: Agent) -> Iterator[ADMPClientSync]:
    with ADMPClientSync(relay_url=relay.url, agent_id=alice.agent_id, api_key=alice.api_key) as client:
        yield client


@pytest.fixture
def worker(relay: Relay, bob: Agent) -> Iterator[ADMPClientSync]:
    with ADMPClientSync(relay_url=relay.url, agent_id=bob.agent_id, api_key=bob.api_key) as client:
        yield client


def eventually(check, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


def test_send_pull_ack_status_and_stats(sender: ADMPClientSync, worker: ADMPClientSync) -> None:
    message_id = sender.send(worker.agent_id, "task.request", "sync", {"n": 1}, correlation_id="c-9")
    assert worker.inbox_stats().ready == 1
    message = worker.pull(lease_duration=15)
    assert message is not None and message.id == message_id and message.correlation_id == "c-9"
    assert worker.pull() is None
    worker.ack(message)
    assert sender.status(message_id).status == "acked"
    with pytest.raises(NotFoundError):
        worker.ack(message_id)


def test_nack_and_long_poll_pull(sender: ADMPClientSync, worker: ADMPClientSync) -> None:
    sender.send(worker.agent_id, "event", "again", {})
    message = worker.pull()
    assert message is not None
    assert worker.nack(message, extend=30).status == "leased"
    assert worker.nack(message.id).status == "delivered"
    # Sent while the long poll waits: the relay answers as soon as it arrives.
    timer = threading.Timer(0.5, lambda: sender.send(worker.agent_id, "event", "late", {}))
    timer.start()
    first = worker.pull()
    assert first is not None and first.id == message.id and first.attempts == 1
    # A wait no busy machine uses up first: an answer before its end was woken, not timed out.
    wait = 20
    started = time.monotonic()
    late = worker.pull(wait=wait)
    timer.join()
    assert late is not None and late.subject == "late"
    assert time.monotonic() - started < wait, "woken by the SEND, not by the end of the wait"


def test_reply_and_wait_for_reply(sender: ADMPClientSync, worker: ADMPClientSync) -> None:
    request_id = sender.send(worker.agent_id, "task.request", "add", {"a": 2, "b": 3})
    request = worker.pull()
    assert request is not None
    worker.reply(request, result={"sum": 5})
    answer = sender.wait_for_reply(request_id, timeout=10)
    assert answer.type == "task.result" and answer.body == {"sum": 5}
    unanswered = sender.send(worker.agent_id, "task.request", "never answered", {})
    with pytest.raises(TimeoutError):
        sender.wait_for_reply(unanswered, timeout=0.5)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_subscribe_runs_the_handler_on_a_background_thread(
    sender: ADMPClientSync, worker: ADMPClientSync, transport: str
) -> None:
    seen: List[str] = []

    def handle(message: Message) -> None:
        seen.append(message.subject)
        if message.subject == "bad" and message.attempts == 0:
            raise ValueError("first try fails")

    subscription = worker.subscribe(handle, transport=transport)  # type: ignore[arg-type]
    try:
        subscription.wait_connected(10)
        good = sender.send(worker.agent_id, "event", "good", {})
        bad = sender.send(worker.agent_id, "event", "bad", {})
        eventually(lambda: sender.status(good).status == "acked" and sender.status(bad).status == "acked")
        assert sender.status(bad).attempts == 1
        assert seen == ["good", "bad", "bad"]
    finally:
        subscription.close()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_messages_acks_finished_bodies_and_nacks_a_raising_one(
    sender: ADMPClientSync, worker: ADMPClientSync, transport: str
) -> None:
    ok = sender.send(worker.agent_id, "event", "ok", {})
    boom = sender.send(worker.agent_id, "event", "boom", {})
    with pytest.raises(RuntimeError), worker.messages(transport=transport) as inbox:  # type: ignore[arg-type]
        for message in inbox:
            if message.id == boom:
                raise RuntimeError("boom")
    eventually(lambda: sender.status(ok).status == "acked" and sender.status(boom).attempts == 1)
