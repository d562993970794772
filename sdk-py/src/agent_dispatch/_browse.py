"""Dead letters, cancel, browsing and the wait for a reply: request building and parsing, free of I/O.

These read or change messages without leasing any (SPEC: "Dead letters, delay, cancel" and
"Browsing"), so both clients share them as they share :mod:`._protocol`.
"""

from __future__ import annotations

import time
from typing import List, Optional, Sequence
from urllib.parse import quote

import httpx

from ._protocol import ClientCore, PreparedRequest, json_bytes, json_object, with_query
from .errors import TimeoutError
from .models import DeadLetterPage, MessagePage, MessageRecord, agent_uri

_REPLY_TYPES = ("task.result", "task.error")
# Seconds between reads of a thread while waiting for a reply: short at first, doubled up to a second.
_FIRST_POLL = 0.1
_LONGEST_POLL = 1.0


def build_dead_letters(core: ClientCore, limit: Optional[int], cursor: Optional[str]) -> PreparedRequest:
    """Build a request for one page of this inbox's dead letters, oldest first."""
    return PreparedRequest("GET", with_query(core.inbox("/dead-letters"), {"limit": limit, "cursor": cursor}))


def build_redrive(core: ClientCore, message_ids: Optional[Sequence[str]], all: bool) -> PreparedRequest:
    """Build a redrive of the dead letters named, or of all of them.

    Raises:
        ValueError: neither or both of ``message_ids`` and ``all`` were given.
    """
    if (message_ids is None) == (not all):
        raise ValueError("redrive takes message_ids or all=True, not both")
    content = {"all": True} if all else {"message_ids": list(message_ids or [])}
    return PreparedRequest(
        "POST",
        core.inbox("/dead-letters/redrive"),
        body=json_bytes(content),
        headers={"Content-Type": "application/json"},
    )


def build_purge_dead_letter(core: ClientCore, message_id: str) -> PreparedRequest:
    """Build the deletion of one dead letter of this inbox."""
    return PreparedRequest("DELETE", core.inbox(f"/dead-letters/{quote(message_id, safe='')}"))


def build_cancel(message_id: str) -> PreparedRequest:
    """Build the cancellation of a message this agent sent."""
    return PreparedRequest("DELETE", f"/v1/messages/{quote(message_id, safe='')}")


def build_list_messages(
    core: ClientCore,
    direction: Optional[str],
    status: Optional[str],
    limit: Optional[int],
    cursor: Optional[str],
) -> PreparedRequest:
    """Build a request for one page of this agent's inbox or sent messages, newest first."""
    query = {"direction": direction, "status": status, "limit": limit, "cursor": cursor}
    return PreparedRequest("GET", with_query(core.inbox("/messages"), query))


def build_thread(correlation_id: str) -> PreparedRequest:
    """Build a request for the thread of a correlation id."""
    return PreparedRequest("GET", f"/v1/threads/{quote(correlation_id, safe='')}")


def parse_redrive(response: httpx.Response) -> int:
    """How many dead letters went back to the inbox."""
    return int(json_object(response).get("redriven", 0))


def parse_dead_letters(response: httpx.Response) -> DeadLetterPage:
    """One page of dead letters."""
    return DeadLetterPage.model_validate(json_object(response))


def parse_list_messages(response: httpx.Response) -> MessagePage:
    """One page of messages."""
    return MessagePage.model_validate(json_object(response))


def parse_thread(response: httpx.Response) -> List[MessageRecord]:
    """A thread's messages, oldest first."""
    return [MessageRecord.model_validate(m) for m in json_object(response).get("messages") or []]


def reply_key(thread: Sequence[MessageRecord], request_id: str) -> str:
    """The correlation id a reply to ``request_id`` carries: the request's own, else its id.

    ``thread`` is the thread of ``request_id``, which holds the request itself.
    """
    request = next((m for m in thread if m.id == request_id), None)
    return (request.correlation_id if request else None) or request_id


def find_reply(
    thread: Sequence[MessageRecord], request_id: str, key: str, agent_id: str
) -> Optional[MessageRecord]:
    """The reply to ``request_id`` in the thread of ``key``, if it has come.

    That is the first ``task.result`` or ``task.error`` to this agent carrying ``key`` after the
    request: earlier replies in a conversation answered earlier requests.
    """
    me = agent_uri(agent_id)
    after = next((i + 1 for i, m in enumerate(thread) if m.id == request_id), 0)
    for message in thread[after:]:
        if message.type in _REPLY_TYPES and message.to == me and message.correlation_id == key:
            return message
    return None


class ReplyWatch:
    """The wait for a reply, free of I/O: which thread to read next, and how long to sleep before it.

    It reads threads (SPEC: Browsing), never the inbox: a PULL would lease, and so spend, whatever
    other message came first, and would race this agent's own consumer for the reply.
    """

    def __init__(self, request_id: str, agent_id: str, timeout: float) -> None:
        """Start watching for the reply to ``request_id``, giving up after ``timeout`` seconds."""
        self.request_id = request_id
        self._agent_id = agent_id
        self._timeout = timeout
        self._deadline = time.monotonic() + timeout
        self._key: Optional[str] = None
        self._pause = _FIRST_POLL
        self._next_at_once = False

    @property
    def thread_id(self) -> str:
        """The correlation id whose thread to read next: the request's id first, to learn its key."""
        return self._key or self.request_id

    def see(self, thread: Sequence[MessageRecord]) -> Optional[MessageRecord]:
        """The reply, if the thread just read holds it."""
        if self._key is None:
            self._key = reply_key(thread, self.request_id)
            if self._key != self.request_id:
                self._next_at_once = True
                return None
        return find_reply(thread, self.request_id, self._key, self._agent_id)

    def pause(self) -> float:
        """Seconds to sleep before the next read.

        Raises:
            TimeoutError: the time is up.
        """
        if self._next_at_once:
            self._next_at_once = False
            return 0.0
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no reply to {self.request_id} within {self._timeout} s", code="timeout")
        pause, self._pause = self._pause, min(self._pause * 2, _LONGEST_POLL)
        return min(pause, remaining)
