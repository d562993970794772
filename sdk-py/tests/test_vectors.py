"""The shared cross-language vectors in spec/test-vectors/: canonical JSON, Ed25519 and HMAC."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Dict, List

import pytest

from agent_dispatch import base_string, canonicalize, public_key_b64, sign_envelope, verify_envelope
from agent_dispatch.hmac_auth import sign_request, string_to_sign

VECTORS = Path(__file__).resolve().parents[2] / "spec" / "test-vectors"


def load(name: str) -> Dict[str, Any]:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def cases(name: str) -> List[Dict[str, Any]]:
    return load(name)["cases"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("case", cases("canonical-json.json"), ids=lambda c: c["name"])
def test_canonical_json(case: Dict[str, Any]) -> None:
    text = canonicalize(json.loads(case["input"]))
    assert text == case["canonical"]
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == case["sha256"]


ED25519 = load("ed25519.json")


def test_the_vector_key_pair() -> None:
    assert public_key_b64(ED25519["seed"]) == ED25519["public_key"]


@pytest.mark.parametrize("case", ED25519["cases"], ids=lambda c: c["name"])
def test_ed25519(case: Dict[str, Any]) -> None:
    envelope = case["envelope"]
    if "body_canonical" in case:
        assert canonicalize(envelope["body"]) == case["body_canonical"]
    if "base_string" in case:
        assert base_string(envelope) == case["base_string"]
    assert verify_envelope(envelope, ED25519["public_key"], case["signature"]) is case["valid"]
    if case["valid"]:
        signature = sign_envelope(envelope, ED25519["seed"], ED25519["kid"])
        assert signature.sig == case["signature"] and signature.kid == ED25519["kid"]


HMAC = load("hmac.json")


@pytest.mark.parametrize("case", HMAC["cases"], ids=lambda c: c["name"])
def test_hmac(case: Dict[str, Any]) -> None:
    body = case["body"].encode("utf-8")
    assert hashlib.sha256(body).hexdigest() == case["body_sha256"]
    assert string_to_sign(case["timestamp"], case["method"], case["path"], body) == case["string_to_sign"]
    assert (
        sign_request(HMAC["secret"], case["timestamp"], case["method"], case["path"], body)
        == case["signature"]
    )
