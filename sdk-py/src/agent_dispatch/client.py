"""``ADMPClient``: the asyncio client."""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any, Awaitable, Callable, List, Mapping, Optional, Sequence, Type, Union

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
from .realtime import Subscription, Transport
from .signing import SigningKeyLike
from .stream import MessageStream

MessageOrId = Union[Message, str]
AsyncHandler = Callable[[Message], Awaitable[Any]]


class ADMPClient:
    """An agent's asyncio client for the ADMP relay.

    Pass exactly one credential: ``api_key`` (``Authorization: Bearer``), ``hmac_secret`` (signed
    requests, a fresh signature and nonce per attempt) or ``jwt`` (Bearer). With ``signing_key``
    and ``kid`` every sent envelope carries an Ed25519 signature.

    Use it as ``async with ADMPClient(...) as client:`` or call :meth:`aclose` when done.
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
        http_client: Optional[httpx.AsyncClient] = None,
    ) -> None:
        """Create a client.

        Args:
            relay_url: The relay's base URL, e.g. ``http://localhost:3030``.
            agent_id: This agent's id (``billing.api``) or URI (``agent://billing.api``).
            api_key: The agent's API key.
            hmac_secret: The agent's HMAC secret, exactly as issued.
            jwt: A JWT whose ``sub`` is this agent.
            signing_key: An Ed25519 seed (32 bytes, hex or base64) or a PyNaCl ``SigningKey``;
                needs the ``signing`` extra.
            kid: The id under which the signing key's public half is registered.
            retries: Retries after the first attempt for network errors, 408, 429 and 5xx.
            timeout: Seconds per HTTP request (long polls get their wait on top).
            http_client: An ``httpx.AsyncClient`` to use instead of the client's own; it is not
                closed by :meth:`aclose`.
        """
        self._core = p.ClientCore(
            relay_url=relay_url,
            agent_id=agent_id,
            api_key=api_key,
            hmac_secret=hmac_secret,
            jwt=jwt,
            signing_key=signing_key,
            kid=kid,
            retries=retries,
            timeout=timeout,
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=timeout)
        self._leases = LeaseBook()

    @property
    def agent_id(self) -> str:
        """This client's bare agent id."""
        return self._core.agent_id

    async def __aenter__(self) -> ADMPClient:
        """Return the client itself."""
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        """Close the client."""
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP connections this client opened."""
        if self._owns_http:
            await self._http.aclose()

    async def send(
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
        """Send a message to ``to`` (``x`` or ``agent://x``) and return its id.

        ``type`` is ``task.request``, ``task.result``, ``task.error`` or ``event``. Every call gets
        its own ``Idempotency-Key`` (or uses ``idempotency_key``), reused on its retries, so a retry
        after a lost answer never stores the message twice. With ``delay_sec`` (0 to its TTL) the
        message is stored now and ready that many seconds later.
        """
        request = p.build_send(
            self._core, to, type, subject, body,
            correlation_id=correlation_id, headers=headers, ttl_sec=ttl_sec, idempotency_key=idempotency_key,
            delay_sec=delay_sec,
        )  # fmt: skip
        return p.parse_send(await self._request(request))

    async def send_batch(
        self, items: Sequence[b.BatchItemLike], *, delay_sec: Optional[int] = None
    ) -> List[SendBatchResult]:
        """Send up to 100 messages, to any recipients, in one request; one result per item, in order.

        Each item is a :class:`~agent_dispatch.BatchItem` or a mapping with its fields (``to``,
        ``type``, ``subject``, ``body``, and optionally ``correlation_id``, ``headers``,
        ``ttl_sec``, ``id``, ``timestamp``). A refused item does not raise: its result has
        ``error`` (``code``, ``message``, ``status_code``: what a single :meth:`send` would have
        raised, e.g. ``not_found`` for an unknown recipient) and ``raise_for_error()``. Only a
        failure of the whole request raises (credentials, more than 100 items, over 5 MiB). Not a
        transaction. Retries resend the same envelopes, whose ids make them safe to repeat. With
        ``delay_sec`` every message of the batch is ready that many seconds later.

        Example::

            results = await client.send_batch([
                {"to": "billing", "type": "event", "subject": "order_paid", "body": {"order": 1}},
                {"to": "shipping", "type": "task.request", "subject": "ship", "body": {"order": 1}},
            ])
            failed = [r for r in results if not r.ok]
        """
        if not items:
            return []
        request = b.build_send_batch(self._core, items, delay_sec)
        return b.parse_send_batch(await self._request(request), request)

    async def pull(self, lease_duration: int = 30, wait: float = 0) -> Optional[Message]:
        """Lease the oldest ready message for ``lease_duration`` seconds, or return ``None``.

        With ``wait`` > 0 the relay holds the request up to that many seconds for a message to
        arrive (long poll).
        """
        message = p.parse_pull(await self._request(p.build_pull(self._core, lease_duration, wait)))
        if message is not None:
            self._leases.remember(message)
        return message

    async def pull_batch(
        self, max_messages: int = 10, lease_duration: int = 30, wait: float = 0
    ) -> List[Message]:
        """Lease up to ``max_messages`` (1 to 100) ready messages, oldest first, or ``[]``.

        With ``wait`` > 0 the relay holds the request up to that many seconds for the first message.

        Example::

            batch = await client.pull_batch(max_messages=50, lease_duration=120, wait=20)
            for message in batch:
                await handle(message.body)
            await client.ack_batch(batch)
        """
        request = b.build_pull_batch(self._core, max_messages, lease_duration, wait)
        messages = b.parse_pull_batch(await self._request(request))
        for message in messages:
            self._leases.remember(message)
        return messages

    async def ack(self, message: MessageOrId) -> None:
        """Acknowledge a leased message: done, never deliver it again.

        Raises:
            NotFoundError: the lease is no longer this client's (it ran out, or was settled).
        """
        message_id, lease_id = self._lease_of(message)
        await self._request(p.build_ack(self._core, message_id, lease_id))
        self._leases.forget(message_id)

    async def ack_batch(self, messages: Sequence[LeaseRef]) -> List[AckBatchResult]:
        """Acknowledge up to 100 leased messages in one request; one result per item, in order.

        Pass the messages (or ``{"message_id", "lease_id"}``, or ids this client pulled): each
        names the lease this client holds, and one whose lease is unknown raises ``ValueError``
        before anything is sent. A lease that ran out or went to another worker does not raise:
        its result has ``error`` with ``code="not_found"``; the others are acked.

        Example::

            results = await client.ack_batch(await client.pull_batch(max_messages=20))
            lost = [r.message_id for r in results if not r.ok]
        """
        if not messages:
            return []
        request = b.build_ack_batch(self._core, [self._leases.ref_of(m) for m in messages])
        results = b.parse_ack_batch(await self._request(request), request)
        for result in results:
            if result.ok:
                self._leases.forget(result.message_id)
        return results

    async def nack(
        self, message: MessageOrId, extend: Optional[int] = None, *, delay_sec: Optional[int] = None
    ) -> NackResult:
        """Give a leased message back (one more attempt counted), or keep it ``extend`` seconds longer.

        With ``delay_sec`` the message given back is ready again only that many seconds later
        (back-off); it does not go with ``extend``.
        """
        message_id, lease_id = self._lease_of(message)
        request = p.build_nack(self._core, message_id, lease_id, extend, delay_sec)
        result = p.parse_nack(await self._request(request))
        if extend is None:
            self._leases.forget(message_id)
        return result

    async def reply(
        self,
        message: Message,
        result: Optional[Mapping[str, Any]] = None,
        error: Union[ReplyError, Mapping[str, Any], None] = None,
    ) -> str:
        """Answer a leased ``task.request`` with ``result`` or ``error`` and ack it; return the reply's id.

        The reply goes to the sender as ``task.result`` / ``task.error`` with the request's
        correlation id (or its id when it had none).
        """
        request = p.build_reply(self._core, message, result, error)
        reply_id = p.parse_send(await self._request(request))
        self._leases.forget(message.id)
        return reply_id

    async def wait_for_reply(self, message_id: str, timeout: float = 5.0) -> MessageRecord:
        """Wait for the reply to a message this agent sent and return it.

        The reply is the first ``task.result`` or ``task.error`` to this agent that carries the
        request's correlation id (the request's own id when it had none) and came after the
        request. The wait reads the request's thread and takes nothing from the inbox: other
        messages stay for the next :meth:`pull`, and the reply itself comes back as the thread
        shows it, neither leased nor acked; it stays in the inbox for this agent's consumer.

        Raises:
            TimeoutError: no reply within ``timeout`` seconds.
            NotFoundError: this agent neither sent nor received ``message_id``.
        """
        watch = r.ReplyWatch(message_id, self.agent_id, timeout)
        while True:
            reply = watch.see(await self.thread(watch.thread_id))
            if reply is not None:
                return reply
            await asyncio.sleep(watch.pause())

    async def inbox_stats(self) -> InboxStats:
        """Counts of this agent's inbox by state."""
        return p.parse_stats(await self._request(p.build_stats(self._core)))

    async def status(self, message_id: str) -> MessageStatus:
        """The delivery status of a message this agent sent or received."""
        return p.parse_status(await self._request(p.build_status(message_id)))

    async def dead_letters(
        self, *, limit: Optional[int] = None, cursor: Optional[str] = None
    ) -> DeadLetterPage:
        """One page of this inbox's dead letters (attempts or TTL ran out), oldest first.

        Pass ``next_cursor`` back as ``cursor`` for the next page; it is ``None`` on the last.
        """
        return r.parse_dead_letters(await self._request(r.build_dead_letters(self._core, limit, cursor)))

    async def redrive(self, message_ids: Optional[Sequence[str]] = None, *, all: bool = False) -> int:
        """Send dead letters back to this inbox as if new (attempts 0, a fresh TTL); return how many.

        Pass their ids, or ``all=True``. Ids that are not dead letters of this inbox are skipped.
        """
        return r.parse_redrive(await self._request(r.build_redrive(self._core, message_ids, all)))

    async def purge_dead_letter(self, message_id: str) -> None:
        """Delete one dead letter of this inbox for good.

        Raises:
            NotFoundError: it is not a dead letter of this inbox.
        """
        await self._request(r.build_purge_dead_letter(self._core, message_id))

    async def cancel(self, message_id: str) -> None:
        """Cancel a message this agent sent while no one has leased it: it is never delivered.

        Raises:
            ConflictError: ``invalid_state``, it is leased or finished already.
        """
        await self._request(r.build_cancel(message_id))

    async def list_messages(
        self,
        *,
        direction: Optional[str] = None,
        status: Optional[str] = None,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
    ) -> MessagePage:
        """One page of this agent's inbox (or with ``direction="sent"`` what it sent), newest first.

        ``status`` keeps one state only. Looking leases nothing.
        """
        request = r.build_list_messages(self._core, direction, status, limit, cursor)
        return r.parse_list_messages(await self._request(request))

    async def thread(self, correlation_id: str) -> List[MessageRecord]:
        """A conversation, oldest first: the message ``correlation_id`` and every message carrying it.

        Only those this agent sent or received.

        Raises:
            NotFoundError: this agent sees none.
        """
        return r.parse_thread(await self._request(r.build_thread(correlation_id)))

    def subscribe(
        self,
        handler: AsyncHandler,
        *,
        transport: Transport = "websocket",
        lease_duration: int = 30,
        wait: int = 20,
    ) -> Subscription:
        """Deliver every message to ``handler`` in the background; ack when it returns, nack when it raises.

        ``transport`` is ``"websocket"`` (extra ``realtime``; reconnects with backoff and jitter) or
        ``"poll"`` (long-polling PULL, no extra needed). Call :meth:`Subscription.close` to stop.
        Must be called with an event loop running.
        """
        return Subscription(self, handler, transport=transport, lease_duration=lease_duration, wait=wait)

    def messages(
        self, *, transport: Transport = "websocket", lease_duration: int = 30, wait: int = 20
    ) -> MessageStream:
        """Iterate over incoming messages: ``async with client.messages() as inbox: async for m in inbox``.

        Each message is acked when the loop body finishes and nacked when it raises.
        """
        return MessageStream(self, transport=transport, lease_duration=lease_duration, wait=wait)

    def _lease_of(self, message: MessageOrId) -> tuple[str, Optional[str]]:
        return self._leases.ref_of(message)

    def _remember(self, message: Message) -> None:
        self._leases.remember(message)

    async def _request(self, request: p.PreparedRequest) -> httpx.Response:
        attempt = 0
        while True:
            url, headers = self._core.authenticate(request)
            retry_after: Optional[float] = None
            try:
                response = await self._http.request(
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
            await asyncio.sleep(delay)
            attempt += 1


__all__ = ["ADMPClient", "AsyncHandler", "MessageOrId"]
