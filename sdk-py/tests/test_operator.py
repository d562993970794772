"""Dead letters, delay, cancel and browsing against the live relay, with both clients."""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from agent_dispatch import (
    ADMPClient,
    ADMPClientSync,
    ConflictError,
    DeadLetterPage,
    MessagePage,
    NotFoundError,
)

from .conftest import Agent, Relay, register


def _at(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


async def _dead_letter(sender: ADMPClient, worker: ADMPClient, subject: str) -> str:
    """Send a message and NACK it until it is dead (the relay's default is 3 attempts)."""
    message_id = await sender.send(worker.agent_id, "task.request", subject, {})
    while True:
        message = await worker.pull(wait=5)
        assert message is not None and message.id == message_id
        if (await worker.nack(message)).status == "dead":
            return message_id


async def test_dead_letters_are_listed_by_page_redriven_to_one_puller_and_purged(
    sender: ADMPClient, worker: ADMPClient
) -> None:
    ids = [await _dead_letter(sender, worker, f"d{n}") for n in range(3)]
    first = await worker.dead_letters(limit=2)
    assert isinstance(first, DeadLetterPage)
    assert [m.id for m in first.messages] == ids[:2]
    assert first.messages[0].status == "dead" and first.messages[0].attempts == 3
    assert first.messages[0].died_at and first.next_cursor
    second = await worker.dead_letters(limit=2, cursor=first.next_cursor)
    assert [m.id for m in second.messages] == ids[2:] and second.next_cursor is None

    assert await worker.redrive([ids[0]]) == 1
    back = await worker.pull()
    assert back is not None and back.id == ids[0] and back.attempts == 0
    assert await worker.pull() is None
    await worker.ack(back)

    await worker.purge_dead_letter(ids[1])
    with pytest.raises(NotFoundError):
        await worker.purge_dead_letter(ids[1])
    assert await worker.redrive(all=True) == 1
    again = await worker.pull()
    assert again is not None and again.id == ids[2]


async def test_another_agent_sees_and_touches_none_of_them(sender: ADMPClient, worker: ADMPClient) -> None:
    message_id = await _dead_letter(sender, worker, "private")
    assert (await sender.dead_letters()).messages == []
    assert await sender.redrive([message_id]) == 0
    with pytest.raises(NotFoundError):
        await sender.purge_dead_letter(message_id)


async def test_redrive_takes_ids_or_all_not_both(worker: ADMPClient) -> None:
    with pytest.raises(ValueError):
        await worker.redrive(["x"], all=True)
    with pytest.raises(ValueError):
        await worker.redrive()


async def test_a_delayed_send_is_pulled_only_from_its_available_at(
    sender: ADMPClient, worker: ADMPClient
) -> None:
    message_id = await sender.send(worker.agent_id, "event", "later", {}, delay_sec=2)
    status = await sender.status(message_id)
    assert status.available_at is not None
    assert _at(status.available_at) - _at(status.created_at) >= 1.9
    assert await worker.pull() is None
    message = await worker.pull(wait=10)
    assert message is not None and message.id == message_id
    assert time.time() >= _at(status.available_at)


async def test_a_delayed_batch_and_a_nack_with_delay_wait_their_time(
    sender: ADMPClient, worker: ADMPClient
) -> None:
    results = await sender.send_batch(
        [{"to": worker.agent_id, "type": "event", "subject": "b", "body": {}}], delay_sec=2
    )
    assert results[0].ok
    assert await worker.pull_batch() == []
    batch = await worker.pull_batch(wait=10)
    assert [m.id for m in batch] == [results[0].message_id]
    result = await worker.nack(batch[0], delay_sec=2)
    assert result.status == "delivered" and result.attempts == 1
    assert await worker.pull() is None
    again = await worker.pull(wait=10)
    assert again is not None and again.id == batch[0].id and again.attempts == 1


async def test_cancel_stops_a_message_nobody_leased_and_refuses_a_leased_one(
    sender: ADMPClient, worker: ADMPClient
) -> None:
    waiting = await sender.send(worker.agent_id, "event", "cancel me", {}, delay_sec=60)
    await sender.cancel(waiting)
    assert (await sender.status(waiting)).status == "cancelled"
    leased = await sender.send(worker.agent_id, "event", "too late", {})
    pulled = await worker.pull()
    assert pulled is not None and pulled.id == leased
    with pytest.raises(ConflictError) as caught:
        await sender.cancel(leased)
    assert caught.value.code == "invalid_state"
    with pytest.raises(NotFoundError):
        await worker.cancel(waiting)


async def test_list_messages_pages_newest_first_by_direction_and_status_leasing_nothing(
    sender: ADMPClient, worker: ADMPClient
) -> None:
    ids = [await sender.send(worker.agent_id, "event", f"m{n}", {}) for n in range(3)]
    page = await worker.list_messages(limit=2)
    assert isinstance(page, MessagePage)
    assert [m.id for m in page.messages] == [ids[2], ids[1]]
    assert page.messages[0].status == "delivered" and page.messages[0].attempts == 0
    rest = await worker.list_messages(limit=2, cursor=page.next_cursor)
    assert [m.id for m in rest.messages] == [ids[0]] and rest.next_cursor is None
    sent = await sender.list_messages(direction="sent")
    assert [m.id for m in sent.messages] == ids[::-1]
    pulled = await worker.pull()
    assert pulled is not None
    leased = await worker.list_messages(status="leased")
    assert [m.id for m in leased.messages] == [ids[0]]
    stats = await worker.inbox_stats()
    assert stats.ready == 2 and stats.leased == 1


async def test_a_thread_shows_both_sides_oldest_first_and_nobody_else(
    relay: Relay, sender: ADMPClient, worker: ADMPClient
) -> None:
    request_id = await sender.send(worker.agent_id, "task.request", "question", {})
    request = await worker.pull()
    assert request is not None
    reply_id = await worker.reply(request, result={"answer": 42})
    assert [(m.id, m.type) for m in await sender.thread(request_id)] == [
        (request_id, "task.request"),
        (reply_id, "task.result"),
    ]
    assert [m.id for m in await worker.thread(request_id)] == [request_id, reply_id]
    stranger = register(relay, "stranger")
    async with ADMPClient(relay_url=relay.url, agent_id=stranger.agent_id, api_key=stranger.api_key) as other:
        with pytest.raises(NotFoundError):
            await other.thread(request_id)


def test_the_sync_client_has_the_same_methods(relay: Relay, alice: Agent, bob: Agent) -> None:
    with ADMPClientSync(relay_url=relay.url, agent_id=alice.agent_id, api_key=alice.api_key) as a:
        with ADMPClientSync(relay_url=relay.url, agent_id=bob.agent_id, api_key=bob.api_key) as b:
            message_id = a.send(b.agent_id, "task.request", "sync", {}, delay_sec=1)
            assert [m.id for m in b.list_messages().messages] == [message_id]
            assert [m.id for m in a.thread(message_id)] == [message_id]
            for _ in range(3):
                message = b.pull(wait=10)
                assert message is not None
                result = b.nack(message, delay_sec=0)
            assert result.status == "dead"
            page = b.dead_letters()
            assert [m.id for m in page.messages] == [message_id]
            assert b.redrive(all=True) == 1
            pulled = b.pull(wait=5)
            assert pulled is not None
            b.reply(pulled, result={"ok": True})
            assert a.wait_for_reply(message_id, timeout=10).body == {"ok": True}
            other = a.send(b.agent_id, "event", "cancel me", {}, delay_sec=60)
            a.cancel(other)
            assert a.status(other).status == "cancelled"
            with pytest.raises(NotFoundError):
                b.purge_dead_letter(message_id)
