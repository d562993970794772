"""Pydantic models of what goes over the wire, with the wire's field names.

``from`` is a Python keyword, so it is the attribute ``from_``; it is read from and written as
``"from"``. Every model keeps fields it does not know (``extra="allow"``), so a newer relay that
adds a field does not break an older client.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from pydantic import BaseModel, ConfigDict, Field

from .errors import APIError, error_for_status

MessageType = str
"""One of ``task.request``, ``task.result``, ``task.error``, ``event``."""


class _WireModel(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="allow", frozen=True)

    def to_wire(self) -> Dict[str, Any]:
        """The model as the relay reads it: wire names, unset optional fields left out."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


class Signature(BaseModel):
    """An Ed25519 envelope signature: ``sig`` is standard base64 of the 64-byte signature."""

    model_config = ConfigDict(frozen=True)

    alg: str = "ed25519"
    kid: str
    sig: str


class Envelope(_WireModel):
    """A message as its sender wrote it (SPEC: Envelope)."""

    id: str
    type: MessageType
    from_: str = Field(alias="from")
    to: str
    subject: str
    body: Dict[str, Any]
    timestamp: str
    version: Optional[str] = None
    correlation_id: Optional[str] = None
    headers: Optional[Dict[str, Any]] = None
    ttl_sec: Optional[int] = None
    signature: Optional[Signature] = None

    @property
    def sender_id(self) -> str:
        """The sender's bare agent id (``from`` without ``agent://``)."""
        return agent_id_of(self.from_)

    @property
    def recipient_id(self) -> str:
        """The recipient's bare agent id (``to`` without ``agent://``)."""
        return agent_id_of(self.to)


class Message(Envelope):
    """A leased message, as PULL and the WebSocket deliver it: the envelope plus its lease.

    Pass it to ``ack``, ``nack`` and ``reply`` so they name the lease you hold (``lease_id``).
    """

    status: str = "leased"
    lease_until: Optional[str] = None
    lease_id: Optional[str] = None
    attempts: int = 0


class InboxStats(_WireModel):
    """Counts of an inbox's messages by state, and the age in seconds of its oldest ready one."""

    ready: int
    leased: int
    dead: int
    oldest_age_sec: float


class _Progress(_WireModel):
    """Where a message stands, as STATUS, listings and threads report it.

    ``status`` is ``delivered``, ``leased``, ``acked``, ``dead`` or ``cancelled``.
    """

    status: str
    attempts: int
    created_at: str
    available_at: Optional[str] = None
    """When it is (or was) first ready: later than ``created_at`` after a delay."""
    lease_until: Optional[str] = None
    acked_at: Optional[str] = None
    last_error: Optional[str] = None


class MessageStatus(_Progress):
    """Where a message is in its life (SPEC: STATUS)."""

    id: str
    from_: str = Field(alias="from")
    to: str


class MessageRecord(Envelope, _Progress):
    """A message as listings and threads show it: the envelope and where it stands; nothing is leased."""


class DeadLetter(Envelope):
    """A message whose attempts or TTL ran out, as :meth:`ADMPClient.dead_letters` lists it."""

    status: str = "dead"
    attempts: int = 0
    last_error: Optional[str] = None
    died_at: Optional[str] = None


class MessagePage(_WireModel):
    """One page of :meth:`ADMPClient.list_messages`; pass ``next_cursor`` as ``cursor`` for the next."""

    messages: List[MessageRecord]
    next_cursor: Optional[str] = None


class DeadLetterPage(_WireModel):
    """One page of :meth:`ADMPClient.dead_letters`; pass ``next_cursor`` as ``cursor`` for the next."""

    messages: List[DeadLetter]
    next_cursor: Optional[str] = None


class NackResult(_WireModel):
    """What a NACK did: ``leased`` (extended), ``delivered`` (ready again) or ``dead``."""

    status: str
    attempts: int
    lease_until: Optional[str] = None


class ReplyError(BaseModel):
    """The ``error`` of a failed task, sent with :meth:`ADMPClient.reply`."""

    model_config = ConfigDict(frozen=True)

    code: str
    message: str


class BatchItem(BaseModel):
    """One message of ``send_batch``: the arguments of ``send``, plus an optional ``id`` and ``timestamp``.

    Give ``id`` and ``timestamp`` together to make a later resend of the same message identical,
    so the relay recognises it and answers with the same id instead of storing it again.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    to: str
    type: MessageType
    subject: str
    body: Dict[str, Any]
    correlation_id: Optional[str] = None
    headers: Optional[Dict[str, Any]] = None
    ttl_sec: Optional[int] = None
    id: Optional[str] = None
    timestamp: Optional[str] = None


class BatchItemError(_WireModel):
    """Why one item of a batch failed: the relay's ``code`` and ``message``.

    ``status_code`` is the HTTP status a single request would have got for that code (``None`` for
    a code this client does not know).
    """

    code: str
    message: str
    status_code: Optional[int] = None

    def exception(self) -> APIError:
        """The error the single operation would have raised (``NotFoundError`` for ``not_found``, …)."""
        if self.status_code is None:
            return APIError(self.message, code=self.code)
        return error_for_status(self.status_code, self.code, self.message)


class _BatchResult(_WireModel):
    message_id: str
    status: Optional[str] = None
    error: Optional[BatchItemError] = None

    @property
    def ok(self) -> bool:
        """Whether this item succeeded."""
        return self.error is None

    def raise_for_error(self) -> None:
        """Raise this item's error as the matching :class:`~agent_dispatch.APIError`, if it failed."""
        if self.error is not None:
            raise self.error.exception()


class SendBatchResult(_BatchResult):
    """One envelope's outcome in ``send_batch``: ``status="delivered"``, or ``error``.

    ``message_id`` is the stored message's id, or for a failed item the id its envelope carried.
    """


class AckBatchResult(_BatchResult):
    """One ACK's outcome in ``ack_batch``: ``status="acked"``, or ``error`` (``not_found``: lease lost)."""


def agent_id_of(uri_or_id: str) -> str:
    """Return the bare agent id of ``agent://x`` or ``x``."""
    return uri_or_id[len("agent://") :] if uri_or_id.startswith("agent://") else uri_or_id


def agent_uri(uri_or_id: str) -> str:
    """Return the ``agent://`` URI of ``x`` or ``agent://x``."""
    return f"agent://{agent_id_of(uri_or_id)}"
