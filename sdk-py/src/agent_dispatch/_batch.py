"""Batches (SPEC: Batches): request building and parsing shared by both clients, free of I/O.

A batch is not a transaction: each item succeeds or fails as its single operation would, and the
relay answers 200 with one result per item in request order. The parsers turn those into results
whose failures are values (``error``), so one bad item never hides the others' outcome.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Type, TypeVar, Union

import httpx

from ._protocol import (
    ClientCore,
    PreparedRequest,
    build_envelope,
    build_pull,
    json_bytes,
    json_object,
    with_query,
)
from .errors import APIError, status_for_code
from .models import AckBatchResult, BatchItem, BatchItemError, Message, SendBatchResult

BatchItemLike = Union[BatchItem, Mapping[str, Any]]
_Result = TypeVar("_Result", SendBatchResult, AckBatchResult)


def build_send_batch(
    core: ClientCore, items: Sequence[BatchItemLike], delay_sec: Optional[int] = None
) -> PreparedRequest:
    """Build a SEND batch of up to 100 envelopes, to any recipients, all ready after ``delay_sec``.

    The envelopes are built and signed once, so every retry repeats the same ids: the relay's
    per-item id and fingerprint rules make the retry safe (a batch has no ``Idempotency-Key``).
    """
    envelopes = [_envelope(core, item) for item in items]
    return PreparedRequest(
        "POST",
        with_query("/v1/messages/batch", {"delay": delay_sec}),
        body=json_bytes({"messages": envelopes}),
        headers={"Content-Type": "application/json"},
        item_ids=tuple(str(e["id"]) for e in envelopes),
    )


def build_pull_batch(
    core: ClientCore, max_messages: int, lease_duration: int, wait: float
) -> PreparedRequest:
    """Build a PULL batch of up to ``max_messages``; a long poll gets a timeout longer than its wait."""
    pull = build_pull(core, lease_duration, wait)  # the same query and timeout, plus the batch size
    query = pull.path.partition("?")[2]
    path = f"{core.inbox('/inbox/pull-batch')}?max_messages={int(max_messages)}&{query}"
    return PreparedRequest("POST", path, timeout=pull.timeout)


def build_ack_batch(core: ClientCore, leases: Sequence[Tuple[str, Optional[str]]]) -> PreparedRequest:
    """Build an ACK batch from ``(message_id, lease_id)`` pairs; each names the lease it settles.

    Raises:
        ValueError: an item's lease is unknown (the relay requires one for every ACK in a batch).
    """
    unknown = [mid for mid, lid in leases if not lid]
    if unknown:
        raise ValueError(f"ack_batch: no lease_id known for {', '.join(unknown)}; pass the Message pulled")
    acks = [{"message_id": mid, "lease_id": lid} for mid, lid in leases]
    return PreparedRequest(
        "POST",
        core.inbox("/inbox/ack-batch"),
        body=json_bytes({"acks": acks}),
        headers={"Content-Type": "application/json"},
        item_ids=tuple(mid for mid, _ in leases),
    )


def parse_send_batch(response: httpx.Response, request: PreparedRequest) -> List[SendBatchResult]:
    """One result per envelope, in request order; a failed item has ``error``, nothing is raised."""
    return _results(SendBatchResult, response, request)


def parse_pull_batch(response: httpx.Response) -> List[Message]:
    """The leased messages, oldest first (possibly none)."""
    messages = json_object(response).get("messages") or []
    return [Message.model_validate(m) for m in messages]


def parse_ack_batch(response: httpx.Response, request: PreparedRequest) -> List[AckBatchResult]:
    """One result per ACK, in request order; a lost lease is an item with ``error``, not an exception."""
    return _results(AckBatchResult, response, request)


def _envelope(core: ClientCore, raw: BatchItemLike) -> Dict[str, Any]:
    item = raw if isinstance(raw, BatchItem) else BatchItem.model_validate(raw)
    return build_envelope(
        core, item.to, item.type, item.subject, item.body,
        correlation_id=item.correlation_id, headers=item.headers, ttl_sec=item.ttl_sec,
        message_id=item.id, timestamp=item.timestamp,
    )  # fmt: skip


def _results(model: Type[_Result], response: httpx.Response, request: PreparedRequest) -> List[_Result]:
    raw = json_object(response).get("results")
    results: List[Dict[str, Any]] = raw if isinstance(raw, list) else []
    ids = request.item_ids
    if len(results) != len(ids) or not all(isinstance(r, dict) for r in results):
        # A 200 without one result per item is a broken relay: say so rather than guess.
        got = len(raw) if isinstance(raw, list) else "none"
        raise APIError(
            f"expected {len(ids)} batch results, got {got}",
            status_code=response.status_code,
            code="invalid_response",
        )
    return [
        model.model_validate({**r, "message_id": r.get("message_id") or mid, "error": _item_error(r)})
        for r, mid in zip(results, ids)
    ]


def _item_error(result: Mapping[str, Any]) -> Optional[BatchItemError]:
    error = result.get("error")
    if not isinstance(error, dict):
        return None
    code = str(error.get("code") or "item_failed")
    status = error.get("status")
    return BatchItemError(
        code=code,
        message=str(error.get("message") or code),
        status_code=status if isinstance(status, int) else status_for_code(code),
    )
