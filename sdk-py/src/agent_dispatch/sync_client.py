"""``ADMPClientSync``: the blocking twin of :class:`agent_dispatch.ADMPClient`.

It builds and parses requests with the same code (``_protocol``); only the transport
(``httpx.Client``) and the sleeping differ. ``subscribe`` and ``messages`` run the async machinery
on a background thread.
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Type, Union

import httpx

from . import _batch as b
from . import _browse as r
from . import _protocol as p
from ._leases import LeaseBook, LeaseRef
from .errors import APIError
from .models import (
    AckBatchResult,
    DeadLetterPage,
    InboxStats,
    Message,
    MessagePage,
    MessageRecord,
    MessageStatus,
    NackResult,
    ReplyError,
    SendBatchResult,
)
from .realtime import Transport
from .signing import SigningKeyLike
from .sync_realtime import SyncMessageStream, SyncSubscription

MessageOrId = Union[Message, str]


class ADMPClientSync:
    """An agent's blocking client for the ADMP relay, for code without an event loop.

    Takes the same keyword arguments as :class:`agent_dispatch.ADMPClient` (``http_client`` is an
    ``httpx.Client`` here) and has the same methods, without ``await``. Use it as
    ``with ADMPClientSync(...) as client:`` or call :meth:`close` when done.
    """

    def __init__(
        self,
        *,
        relay_url: str,
        agent_id: str,
        api_key: Optional[str] = None,
        hmac_secret: Optional[str] = None,
        jwt: Optional[str] = None,
        signing_key: Optional[SigningKeyLike] = None,
        kid: Optional[str] = None,
        retries: int = 3,
        timeout: float = 30.0,
        http_client: Optional[httpx.Client] = None,
    ) -> None:
        """Create a client; the arguments are those of :class:`agent_dispatch.ADMPClient`."""
        self._options: Dict[str, Any] = dict(
            relay_url=relay_url, agent_id=agent_id, api_key=api_key, hmac_secret=hmac_secret, jwt=jwt,
            signing_key=signing_key, kid=kid, retries=retries, timeout=timeout,
        )  # fmt: skip
        self._core = p.ClientCore(**self._options)
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(timeout=timeout)
        self._leases = LeaseBook()

    @property
    def agent_id(self) -> str:
        """This client's bare agent id."""
        return self._core.agent_id

    def __enter__(self) -> ADMPClientSync:
        """Return the client itself."""
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        """Close the client."""
        self.close()

    def close(self) -> None:
        """Close the HTTP connections this client opened."""
        if self._owns_http:
            self._http.close()

    def send(
        self,
        to: str,
        type: str,
        subject: str,
        body: Mapping[str, Any],
        *,
        correlation_id: Optional[str] = None,
        headers: Optional[Mapping[str, Any]] = None,
        ttl_sec: Optional[int] = None,
        idempotency_key: Optional[str] = None,
        delay_sec: Optional[int] = None,
    ) -> str:
        """Send a message and return its id; see :meth:`agent_dispatch.ADMPClient.send`."""
        request = p.build_send(
            self._core, to, type, subject, body,
            correlation_id=correlation_id, headers=headers, ttl_sec=ttl_sec, idempotency_key=idempotency_key,
            delay_sec=delay_sec,
        )  # fmt: skip
        return p.parse_send(self._request(request))

    def send_batch(
        self, items: Sequence[b.BatchItemLike], *, delay_sec: Optional[int] = None
    ) -> List[SendBatchResult]:
        """Send up to 100 messages in one request; see :meth:`agent_dispatch.ADMPClient.send_batch`.

        A refused item does not raise: its result has ``error``.

        Example::

            results = client.send_batch([{"to": "billing", "type": "event", "subject": "paid", "body": {}}])
            for result in results:
                result.raise_for_error()
        """
        if not items:
            return []
        request = b.build_send_batch(self._core, items, delay_sec)
        return b.parse_send_batch(self._request(request), request)

    def pull(self, lease_duration: int = 30, wait: float = 0) -> Optional[Message]:
        """Lease the oldest ready message, or return ``None``; see :meth:`agent_dispatch.ADMPClient.pull`."""
        message = p.parse_pull(self._request(p.build_pull(self._core, lease_duration, wait)))
        if message is not None:
            self._leases.remember(message)
        return message

    def pull_batch(self, max_messages: int = 10, lease_duration: int = 30, wait: float = 0) -> List[Message]:
        """Lease up to ``max_messages``, oldest first; see :meth:`agent_dispatch.ADMPClient.pull_batch`.

        Example::

            batch = client.pull_batch(max_messages=50, wait=20)
        """
        request = b.build_pull_batch(self._core, max_messages, lease_duration, wait)
        messages = b.parse_pull_batch(self._request(request))
        for message in messages:
            self._leases.remember(message)
        return messages

    def ack(self, message: MessageOrId) -> None:
        """Acknowledge a leased message; see :meth:`agent_dispatch.ADMPClient.ack`."""
        message_id, lease_id = self._lease_of(message)
        self._request(p.build_ack(self._core, message_id, lease_id))
        self._leases.forget(message_id)

    def ack_batch(self, messages: Sequence[LeaseRef]) -> List[AckBatchResult]:
        """Acknowledge up to 100 leased messages; see :meth:`agent_dispatch.ADMPClient.ack_batch`.

        Example::

            lost = [r.message_id for r in client.ack_batch(batch) if not r.ok]
        """
        if not messages:
            return []
        request = b.build_ack_batch(self._core, [self._leases.ref_of(m) for m in messages])
        results = b.parse_ack_batch(self._request(request), request)
        for result in results:
            if result.ok:
                self._leases.forget(result.message_id)
        return results

    def nack(
        self, message: MessageOrId, extend: Optional[int] = None, *, delay_sec: Optional[int] = None
    ) -> NackResult:
        """Give a message back or extend its lease; see :meth:`agent_dispatch.ADMPClient.nack`."""
        message_id, lease_id = self._lease_of(message)
        request = p.build_nack(self._core, message_id, lease_id, extend, delay_sec)
        result = p.parse_nack(self._request(request))
        if extend is None:
            self._leases.forget(message_id)
        return result

    def reply(
        self,
        message: Message,
        result: Optional[Mapping[str, Any]] = None,
        error: Union[ReplyError, Mapping[str, Any], None] = None,
    ) -> str:
        """Answer a leased request and ack it; see :meth:`agent_dispatch.ADMPClient.reply`."""
        reply_id = p.parse_send(self._request(p.build_reply(self._core, message, result, error)))
        self._leases.forget(message.id)
        return reply_id

    def wait_for_reply(self, message_id: str, timeout: float = 5.0) -> MessageRecord:
        """Wait for the reply to ``message_id``; see :meth:`agent_dispatch.ADMPClient.wait_for_reply`.

        It reads the request's thread and takes nothing from the inbox; the reply is neither
        leased nor acked.

        Raises:
            TimeoutError: no reply within ``timeout`` seconds.
        """
        watch = r.ReplyWatch(message_id, self.agent_id, timeout)
        while True:
            reply = watch.see(self.thread(watch.thread_id))
            if reply is not None:
                return reply
            time.sleep(watch.pause())

    def inbox_stats(self) -> InboxStats:
        """Counts of this agent's inbox by state."""
        return p.parse_stats(self._request(p.build_stats(self._core)))

    def status(self, message_id: str) -> MessageStatus:
        """The delivery status of a message this agent sent or received."""
        return p.parse_status(self._request(p.build_status(message_id)))

    def dead_letters(self, *, limit: Optional[int] = None, cursor: Optional[str] = None) -> DeadLetterPage:
        """One page of this inbox's dead letters; see :meth:`agent_dispatch.ADMPClient.dead_letters`."""
        return r.parse_dead_letters(self._request(r.build_dead_letters(self._core, limit, cursor)))

    def redrive(self, message_ids: Optional[Sequence[str]] = None, *, all: bool = False) -> int:
        """Send dead letters back to this inbox; see :meth:`agent_dispatch.ADMPClient.redrive`."""
        return r.parse_redrive(self._request(r.build_redrive(self._core, message_ids, all)))

    def purge_dead_letter(self, message_id: str) -> None:
        """Delete one dead letter; see :meth:`agent_dispatch.ADMPClient.purge_dead_letter`."""
        self._request(r.build_purge_dead_letter(self._core, message_id))

    def cancel(self, message_id: str) -> None:
        """Cancel a message not yet leased; see :meth:`agent_dispatch.ADMPClient.cancel`."""
        self._request(r.build_cancel(message_id))

    def list_messages(
        self,
        *,
        direction: Optional[str] = None,
        status: Optional[str] = None,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
    ) -> MessagePage:
        """One page of the inbox or sent messages; see :meth:`agent_dispatch.ADMPClient.list_messages`."""
        return r.parse_list_messages(
            self._request(r.build_list_messages(self._core, direction, status, limit, cursor))
        )

    def thread(self, correlation_id: str) -> List[MessageRecord]:
        """A conversation, oldest first; see :meth:`agent_dispatch.ADMPClient.thread`."""
        return r.parse_thread(self._request(r.build_thread(correlation_id)))

    def subscribe(
        self,
        handler: Callable[[Message], Any],
        *,
        transport: Transport = "websocket",
        lease_duration: int = 30,
        wait: int = 20,
    ) -> SyncSubscription:
        """Call ``handler`` for each message on a background thread; ack when it returns, nack on raise.

        Returns at once; call :meth:`SyncSubscription.close` to stop. See
        :meth:`agent_dispatch.ADMPClient.subscribe` for the options.
        """
        return SyncSubscription(
            self._options, handler, transport=transport, lease_duration=lease_duration, wait=wait
        )

    def messages(
        self, *, transport: Transport = "websocket", lease_duration: int = 30, wait: int = 20
    ) -> SyncMessageStream:
        """Iterate over incoming messages: ``with client.messages() as inbox: for m in inbox``.

        Each message is acked when the loop body finishes and nacked when it raises.
        """
        return SyncMessageStream(self._options, transport=transport, lease_duration=lease_duration, wait=wait)

    def _lease_of(self, message: MessageOrId) -> tuple[str, Optional[str]]:
        return self._leases.ref_of(message)

    def _request(self, request: p.PreparedRequest) -> httpx.Response:
        attempt = 0
        while True:
            url, headers = self._core.authenticate(request)
            retry_after: Optional[float] = None
            try:
                response = self._http.request(
                    request.method, url, content=request.body or None, headers=headers,
                    timeout=request.timeout or self._core.timeout,
                )  # fmt: skip
            except httpx.TransportError as exc:
                error: APIError = p.error_from_transport(request.method, request.path, exc)
            else:
                if response.status_code < 400:
                    return response
                error = p.error_from_response(response)
                retry_after = getattr(error, "retry_after", None)
            delay = self._core.retry.delay(attempt, error, retry_after)
            if delay is None:
                raise error
            time.sleep(delay)
            attempt += 1
