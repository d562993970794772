"""Python client for the ADMP relay: durable agent inboxes, signed envelopes, at-least-once delivery.

``ADMPClient`` is the asyncio client and ``ADMPClientSync`` its blocking twin; both take the same
keyword arguments and have the same methods.
"""

from ._version import __version__
from .canonical_json import canonicalize
from .client import ADMPClient
from .errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    TimeoutError,
    ValidationError,
)
from .models import (
    AckBatchResult,
    BatchItem,
    BatchItemError,
    DeadLetter,
    DeadLetterPage,
    Envelope,
    InboxStats,
    Message,
    MessagePage,
    MessageRecord,
    MessageStatus,
    NackResult,
    ReplyError,
    SendBatchResult,
    Signature,
)
from .realtime import Subscription
from .signing import base_string, public_key_b64, sign_envelope, verify_envelope
from .stream import MessageStream
from .sync_client import ADMPClientSync
from .sync_realtime import SyncMessageStream, SyncSubscription

__all__ = [
    "ADMPClient",
    "ADMPClientSync",
    "APIConnectionError",
    "APIError",
    "AckBatchResult",
    "AuthenticationError",
    "BatchItem",
    "BatchItemError",
    "ConflictError",
    "DeadLetter",
    "DeadLetterPage",
    "Envelope",
    "InboxStats",
    "Message",
    "MessagePage",
    "MessageRecord",
    "MessageStatus",
    "MessageStream",
    "NackResult",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ReplyError",
    "SendBatchResult",
    "Signature",
    "Subscription",
    "SyncMessageStream",
    "SyncSubscription",
    "TimeoutError",
    "ValidationError",
    "__version__",
    "base_string",
    "canonicalize",
    "public_key_b64",
    "sign_envelope",
    "verify_envelope",
]
