"""How a reply is recognised in a thread, and what the new requests look like: pure, no relay."""

from __future__ import annotations

import time
from typing import Any, Dict

import pytest

from agent_dispatch import MessageRecord, TimeoutError
from agent_dispatch import _browse as r
from agent_dispatch import _protocol as p

ME = "asker"


def record(id: str, type: str = "task.result", to: str = ME, correlation_id: Any = None) -> MessageRecord:
    fields: Dict[str, Any] = {
        "id": id,
        "type": type,
        "from": "agent://other",
        "to": f"agent://{to}",
        "subject": "s",
        "body": {},
        "timestamp": "2026-01-01T00:00:00Z",
        "status": "delivered",
        "attempts": 0,
        "created_at": "2026-01-01T00:00:00Z",
        "correlation_id": correlation_id,
    }
    return MessageRecord.model_validate(fields)


def test_the_key_is_the_requests_correlation_id_else_its_id() -> None:
    assert r.reply_key([record("req", "task.request", "other")], "req") == "req"
    assert r.reply_key([record("req", "task.request", "other", "conv")], "req") == "conv"


def test_the_reply_is_the_first_answer_to_this_agent_after_the_request() -> None:
    thread = [
        record("old", correlation_id="conv"),
        record("req", "task.request", "other", "conv"),
        record("event", "event", correlation_id="conv"),
        record("someone-else", to="other", correlation_id="conv"),
        record("reply", "task.error", correlation_id="conv"),
        record("later", correlation_id="conv"),
    ]
    found = r.find_reply(thread, "req", "conv", ME)
    assert found is not None and found.id == "reply"
    assert r.find_reply(thread[:4], "req", "conv", ME) is None


def test_a_watch_reads_the_request_first_then_its_conversation_and_times_out() -> None:
    watch = r.ReplyWatch("req", ME, timeout=0.05)
    assert watch.thread_id == "req"
    assert watch.see([record("req", "task.request", "other", "conv")]) is None
    assert watch.thread_id == "conv"
    assert watch.pause() == 0.0
    assert watch.see([record("req", "task.request", "other", "conv")]) is None
    assert 0 < watch.pause() <= 0.1
    time.sleep(0.06)
    with pytest.raises(TimeoutError):
        watch.pause()


def test_requests_carry_delay_and_the_new_paths() -> None:
    core = p.ClientCore(relay_url="http://relay", agent_id="me", api_key="k")
    assert p.build_send(core, "you", "event", "s", {}, delay_sec=5).path == "/v1/agents/you/messages?delay=5"
    assert p.build_nack(core, "m", "l", None, 7).path == "/v1/agents/me/messages/m/nack?delay=7&lease_id=l"
    assert r.build_dead_letters(core, 10, "c").path == "/v1/agents/me/dead-letters?limit=10&cursor=c"
    assert r.build_redrive(core, None, True).body == b'{"all":true}'
    assert r.build_redrive(core, ["a"], False).body == b'{"message_ids":["a"]}'
    assert r.build_purge_dead_letter(core, "m").method == "DELETE"
    assert r.build_cancel("m").path == "/v1/messages/m"
    assert r.build_list_messages(core, "sent", "acked", None, None).path == (
        "/v1/agents/me/messages?direction=sent&status=acked"
    )
    assert r.build_thread("conv/1").path == "/v1/threads/conv%2F1"
