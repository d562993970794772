"""ADMPClient against the live relay: every method, with an API key."""

from __future__ import annotations

import builtins
import uuid

import pytest

from agent_dispatch import (
    ADMPClient,
    AuthenticationError,
    InboxStats,
    Message,
    NotFoundError,
    TimeoutError,
    ValidationError,
)

from .conftest import Agent, Relay


async def test_sends_a_message_that_the_recipient_pulls_with_its_lease(
    sender: ADMPClient, worker: ADMPClient
) -> None:
    message_id = await sender.send(
        f"agent://{worker.agent_id}",
        "task.request",
        "create_user",
        {"email": "a@example.com"},
        headers={"x-trace": "1"},
        ttl_sec=600,
    )
    message = await worker.pull(lease_duration=10)
    assert isinstance(message, Message)
    assert message.id == message_id
    assert message.from_ == f"agent://{sender.agent_id}"
    assert message.to == f"agent://{worker.agent_id}"
    assert message.body == {"email": "a@example.com"}
    assert message.headers == {"x-trace": "1"}
    assert message.ttl_sec == 600
    assert message.status == "leased" and message.lease_id and message.lease_until
    assert message.to_wire()["from"] == f"agent://{sender.agent_id}"


async def test_pull_returns_none_on_an_empty_inbox(worker: ADMPClient) -> None:
    assert await worker.pull() is None


async def test_ack_settles_the_message_and_status_shows_it(sender: ADMPClient, worker: ADMPClient) -> None:
    message_id = await sender.send(worker.agent_id, "event", "ping", {})
    message = await worker.pull()
    assert message is not None
    await worker.ack(message)
    status = await sender.status(message_id)
    assert status.status == "acked" and status.acked_at is not None
    assert status.from_ == f"agent://{sender.agent_id}"
    with pytest.raises(NotFoundError) as caught:
        await worker.ack(message)
    assert caught.value.status_code == 404 and caught.value.code == "not_found"


async def test_ack_by_id_names_the_lease_the_client_holds(sender: ADMPClient, worker: ADMPClient) -> None:
    message_id = await sender.send(worker.agent_id, "event", "by-id", {})
    assert (await worker.pull()) is not None
    await worker.ack(message_id)
    assert (await worker.status(message_id)).status == "acked"


async def test_nack_gives_back_or_extends_the_lease(sender: ADMPClient, worker: ADMPClient) -> None:
    await sender.send(worker.agent_id, "task.request", "retry me", {"n": 1})
    first = await worker.pull()
    assert first is not None
    extended = await worker.nack(first, extend=60)
    assert extended.status == "leased" and extended.lease_until is not None
    released = await worker.nack(first)
    assert released.status == "delivered" and released.attempts == 1
    again = await worker.pull()
    assert again is not None and again.id == first.id and again.attempts == 1


async def test_reply_reaches_the_sender_through_wait_for_reply(
    sender: ADMPClient, worker: ADMPClient
) -> None:
    request_id = await sender.send(worker.agent_id, "task.request", "add", {"a": 1, "b": 2})
    request = await worker.pull()
    assert request is not None
    reply_id = await worker.reply(request, result={"sum": 3})
    answer = await sender.wait_for_reply(request_id, timeout=10)
    assert answer.id == reply_id
    assert answer.type == "task.result" and answer.correlation_id == request_id
    assert answer.body == {"sum": 3}
    # The wait only looked: the reply is still in the inbox, unleased, for this agent's consumer.
    assert answer.status == "delivered" and answer.attempts == 0
    assert (await sender.status(request_id)).status == "acked"
    pulled = await sender.pull()
    assert pulled is not None and pulled.id == reply_id
    await sender.ack(pulled)


async def test_reply_with_an_error_sends_a_task_error(sender: ADMPClient, worker: ADMPClient) -> None:
    request_id = await sender.send(worker.agent_id, "task.request", "divide", {"a": 1, "b": 0})
    request = await worker.pull()
    assert request is not None
    await worker.reply(request, error={"code": "division_by_zero", "message": "b is 0"})
    answer = await sender.wait_for_reply(request_id, timeout=10)
    assert answer.type == "task.error"
    assert answer.body == {"code": "division_by_zero", "message": "b is 0"}


async def test_wait_for_reply_keeps_other_messages_for_the_next_pull(
    sender: ADMPClient, worker: ADMPClient
) -> None:
    request_id = await sender.send(worker.agent_id, "task.request", "slow", {})
    unrelated = await worker.send(sender.agent_id, "event", "unrelated", {})
    request = await worker.pull()
    assert request is not None
    await worker.reply(request, result={"ok": True})
    answer = await sender.wait_for_reply(request_id, timeout=10)
    assert answer.correlation_id == request_id
    first = await sender.pull()
    assert first is not None and first.id == unrelated and first.attempts == 0
    second = await sender.pull()
    assert second is not None and second.id == answer.id and second.attempts == 0


async def test_wait_for_reply_that_times_out_spends_nothing(sender: ADMPClient, worker: ADMPClient) -> None:
    unrelated = await worker.send(sender.agent_id, "task.request", "unrelated", {})
    request_id = await sender.send(worker.agent_id, "task.request", "never answered", {})
    with pytest.raises(TimeoutError):
        await sender.wait_for_reply(request_id, timeout=2.5)
    status = await sender.status(unrelated)
    assert status.status == "delivered" and status.attempts == 0
    pulled = await sender.pull()
    assert pulled is not None and pulled.id == unrelated and pulled.attempts == 0


async def test_wait_for_reply_follows_the_correlation_id_the_request_carried(
    sender: ADMPClient, worker: ADMPClient
) -> None:
    conversation = f"conv-{uuid.uuid4()}"
    await sender.send(worker.agent_id, "task.request", "turn 1", {}, correlation_id=conversation)
    first = await worker.pull()
    assert first is not None
    await worker.reply(first, result={"turn": 1})
    request_id = await sender.send(worker.agent_id, "task.request", "turn 2", {}, correlation_id=conversation)
    second = await worker.pull()
    assert second is not None
    await worker.reply(second, result={"turn": 2})
    answer = await sender.wait_for_reply(request_id, timeout=10)
    assert answer.correlation_id == conversation and answer.body == {"turn": 2}


async def test_wait_for_reply_raises_the_sdk_timeout_error(sender: ADMPClient, worker: ADMPClient) -> None:
    request_id = await sender.send(worker.agent_id, "task.request", "never answered", {})
    with pytest.raises(TimeoutError) as caught:
        await sender.wait_for_reply(request_id, timeout=1.0)
    assert isinstance(caught.value, builtins.TimeoutError)
    assert caught.value.code == "timeout"


async def test_inbox_stats_counts_ready_and_leased(sender: ADMPClient, worker: ADMPClient) -> None:
    for n in range(3):
        await sender.send(worker.agent_id, "event", f"n{n}", {"n": n})
    assert (await worker.pull()) is not None
    stats = await worker.inbox_stats()
    assert isinstance(stats, InboxStats)
    assert (stats.ready, stats.leased, stats.dead) == (2, 1, 0)


async def test_the_same_idempotency_key_returns_the_first_id(sender: ADMPClient, worker: ADMPClient) -> None:
    first = await sender.send(worker.agent_id, "event", "once", {"n": 1}, idempotency_key="order-42")
    second = await sender.send(worker.agent_id, "event", "once", {"n": 2}, idempotency_key="order-42")
    assert first == second
    assert (await worker.inbox_stats()).ready == 1


async def test_bad_input_raises_a_validation_error_with_the_relays_code(
    sender: ADMPClient, worker: ADMPClient
) -> None:
    with pytest.raises(ValidationError) as caught:
        await sender.send(worker.agent_id, "event", "x" * 300, {})
    assert caught.value.status_code == 422 and caught.value.code == "validation_failed"
    assert caught.value.message


async def test_a_wrong_key_raises_an_authentication_error(relay: Relay, bob: Agent) -> None:
    async with ADMPClient(relay_url=relay.url, agent_id=bob.agent_id, api_key="admp_0_wrong") as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.inbox_stats()
    assert caught.value.status_code == 401 and caught.value.code == "unauthorized"


async def test_status_of_an_unknown_message_is_not_found(sender: ADMPClient) -> None:
    with pytest.raises(NotFoundError):
        await sender.status("00000000-0000-4000-8000-000000000000")
