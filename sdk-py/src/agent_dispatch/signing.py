r"""Ed25519 envelope signatures (SPEC: Ed25519 message signatures), with PyNaCl (extra ``signing``).

The base string is ``timestamp + "\n" + hex(sha256(JCS(body))) + "\n" + from + "\n" + to + "\n" +
(correlation_id or "")``; ``sig`` is standard base64 of the 64-byte signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any, Mapping, Optional, Union

from .canonical_json import canonical_bytes
from .models import Signature

SigningKeyLike = Union[bytes, str, Any]
"""A 32-byte seed as bytes, as 64 hex characters or as base64; or a ``nacl.signing.SigningKey``."""


def base_string(envelope: Mapping[str, Any]) -> str:
    """Return the text an envelope's signature covers; ``envelope`` uses wire names (``from``)."""
    body_hash = hashlib.sha256(canonical_bytes(envelope["body"])).hexdigest()
    correlation = envelope.get("correlation_id") or ""
    return "\n".join(
        [str(envelope["timestamp"]), body_hash, str(envelope["from"]), str(envelope["to"]), correlation]
    )


def load_signing_key(key: SigningKeyLike) -> Any:
    """Turn a seed (bytes, hex or base64) into a ``nacl.signing.SigningKey``.

    Raises:
        ImportError: PyNaCl is not installed (``pip install "agent-dispatch-client[signing]"``).
        ValueError: the key is not 32 bytes in any of the accepted spellings.
    """
    nacl_signing = _nacl()
    if isinstance(key, nacl_signing.SigningKey):
        return key
    seed = _seed_bytes(key)
    return nacl_signing.SigningKey(seed)


def public_key_b64(key: SigningKeyLike) -> str:
    """Return the raw public key as standard base64, as ``POST /v1/agents/{id}/keys`` takes it."""
    verify_key = load_signing_key(key).verify_key
    return base64.b64encode(bytes(verify_key)).decode("ascii")


def sign_envelope(envelope: Mapping[str, Any], key: SigningKeyLike, kid: str) -> Signature:
    """Sign an envelope (wire names) and return its ``signature`` field."""
    signed = load_signing_key(key).sign(base_string(envelope).encode("utf-8"))
    return Signature(alg="ed25519", kid=kid, sig=base64.b64encode(signed.signature).decode("ascii"))


def verify_envelope(
    envelope: Mapping[str, Any], public_key: Union[bytes, str], signature: Optional[str] = None
) -> bool:
    """Check an envelope's signature against a sender's public key (raw bytes or standard base64).

    ``signature`` defaults to the envelope's own ``signature.sig``. Returns ``False`` for a missing,
    malformed or wrong signature instead of raising.
    """
    nacl_signing = _nacl()
    from nacl.exceptions import BadSignatureError

    sig = signature
    if sig is None:
        field = envelope.get("signature")
        sig = field.get("sig") if isinstance(field, Mapping) else getattr(field, "sig", None)
    if not sig:
        return False
    try:
        raw_key = public_key if isinstance(public_key, bytes) else base64.b64decode(public_key, validate=True)
        raw_sig = base64.b64decode(sig, validate=True)
        nacl_signing.VerifyKey(raw_key).verify(base_string(envelope).encode("utf-8"), raw_sig)
    except (BadSignatureError, binascii.Error, ValueError, TypeError):
        return False
    except Exception as error:  # PyNaCl raises its own ValueError subclasses for bad lengths
        if type(error).__module__.startswith("nacl"):
            return False
        raise
    return True


def _seed_bytes(key: Union[bytes, str]) -> bytes:
    if isinstance(key, bytes):
        seed = key
    elif isinstance(key, str) and len(key) == 64:
        seed = bytes.fromhex(key)
    elif isinstance(key, str):
        seed = base64.b64decode(
            key + "=" * (-len(key) % 4), altchars=b"-_" if "-" in key or "_" in key else None
        )
    else:
        raise ValueError("signing_key must be a 32-byte seed (bytes, hex or base64) or a nacl SigningKey")
    if len(seed) != 32:
        raise ValueError(f"signing_key must be a 32-byte Ed25519 seed, got {len(seed)} bytes")
    return seed


def _nacl() -> Any:
    try:
        import nacl.signing
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            'Ed25519 signing needs PyNaCl: pip install "agent-dispatch-client[signing]"'
        ) from error
    return nacl.signing
