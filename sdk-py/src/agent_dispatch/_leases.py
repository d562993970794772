"""The leases this client holds, so that ``ack("<id>")`` still names the lease it got.

SPEC: a stale holder may not settle a message that was leased again, so the SDK always passes the
``lease_id`` of the lease it holds.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Mapping, Optional, Tuple, Union

from .models import Message

LeaseRef = Union[Message, str, Mapping[str, Any]]
"""A message, its id, or ``{"message_id": …, "lease_id": …}`` as the relay names a lease."""

_MAX_TRACKED = 10_000


class LeaseBook:
    """Message id → lease id of recent deliveries."""

    def __init__(self) -> None:
        """Start empty."""
        self._leases: OrderedDict[str, str] = OrderedDict()

    def remember(self, message: Message) -> None:
        """Record the lease a delivery came with."""
        if message.lease_id:
            self._leases[message.id] = message.lease_id
            self._leases.move_to_end(message.id)
            while len(self._leases) > _MAX_TRACKED:
                self._leases.popitem(last=False)

    def lease_for(self, message_id: str) -> Optional[str]:
        """The lease id this client was given for ``message_id``, if it still knows it."""
        return self._leases.get(message_id)

    def ref_of(self, ref: LeaseRef) -> Tuple[str, Optional[str]]:
        """``(message_id, lease_id)`` of a message, an id (the lease remembered for it) or a wire ref."""
        if isinstance(ref, Message):
            return ref.id, ref.lease_id or self.lease_for(ref.id)
        if isinstance(ref, str):
            return ref, self.lease_for(ref)
        message_id = str(ref["message_id"])
        lease_id = ref.get("lease_id")
        return message_id, str(lease_id) if lease_id else self.lease_for(message_id)

    def forget(self, message_id: str) -> None:
        """Drop a settled message's lease."""
        self._leases.pop(message_id, None)
