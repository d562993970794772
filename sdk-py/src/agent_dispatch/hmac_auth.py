r"""HMAC request signatures (SPEC: Authentication).

The signature is lowercase hex HMAC-SHA256, keyed with the UTF-8 bytes of ``hmac_secret`` exactly
as issued, over ``timestamp + "\n" + METHOD + "\n" + path_with_query + "\n" + hex(sha256(body))``.
The relay accepts each signature once, so the client adds a random ``nonce`` query parameter to
every request it signs: two identical requests in the same second would otherwise be refused as a
replay.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Dict


def string_to_sign(timestamp: str, method: str, path_with_query: str, body: bytes) -> str:
    """Return the text the signature covers."""
    body_hash = hashlib.sha256(body).hexdigest()
    return f"{timestamp}\n{method.upper()}\n{path_with_query}\n{body_hash}"


def sign_request(secret: str, timestamp: str, method: str, path_with_query: str, body: bytes) -> str:
    """Return the lowercase hex signature for one request."""
    message = string_to_sign(timestamp, method, path_with_query, body).encode("utf-8")
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def hmac_headers(
    agent_id: str, secret: str, timestamp: str, method: str, path_with_query: str, body: bytes
) -> Dict[str, str]:
    """Return ``X-Agent-Id``, ``X-Timestamp`` and ``X-Signature`` for one request."""
    return {
        "X-Agent-Id": agent_id,
        "X-Timestamp": timestamp,
        "X-Signature": sign_request(secret, timestamp, method, path_with_query, body),
    }


def with_nonce(path_with_query: str) -> str:
    """Append a random ``nonce`` query parameter, so no two signed requests are the same."""
    separator = "&" if "?" in path_with_query else "?"
    return f"{path_with_query}{separator}nonce={secrets.token_hex(8)}"
