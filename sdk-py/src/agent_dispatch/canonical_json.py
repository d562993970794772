"""RFC 8785 (JCS) canonical JSON, as the Ed25519 base string and the relay's fingerprints use it.

Python's ``json`` module is close but not the same: JCS sorts keys by UTF-16 code units and writes
numbers exactly as ECMAScript's ``Number.prototype.toString`` does (``1e+21``, ``0.000001``,
``1e-7``), which ``repr(float)`` does not.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

_MAX_SAFE_INTEGER = 2**53


def canonicalize(value: Any) -> str:
    """Return the JCS text of a JSON value (dict, list, str, int, float, bool or None).

    Raises:
        ValueError: for NaN, infinities, and values JSON cannot hold.
    """
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts)


def canonical_bytes(value: Any) -> bytes:
    """Return the UTF-8 bytes of :func:`canonicalize`, which is what gets hashed."""
    return canonicalize(value).encode("utf-8")


def _write(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, (int, float)):
        out.append(format_number(value))
    elif isinstance(value, dict):
        # UTF-16 big-endian bytes compare exactly as the UTF-16 code units JCS sorts by.
        keys = sorted(value, key=lambda k: _key(k).encode("utf-16-be", "surrogatepass"))
        out.append("{")
        for i, key in enumerate(keys):
            if i:
                out.append(",")
            out.append(_string(_key(key)))
            out.append(":")
            _write(value[key], out)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise ValueError(f"not a JSON value: {type(value).__name__}")


def _key(key: Any) -> str:
    if not isinstance(key, str):
        raise ValueError(f"JSON object keys must be strings, not {type(key).__name__}")
    return key


def _string(text: str) -> str:
    # json.dumps escapes exactly what JCS escapes when ensure_ascii is off: the quote, the
    # backslash and control characters, with \b \t \n \f \r short forms and lowercase \u00xx.
    return json.dumps(text, ensure_ascii=False)


def format_number(number: float) -> str:
    """Write a number as ECMAScript's ``Number.prototype.toString`` does (RFC 8785 section 3.2.2.3)."""
    if isinstance(number, int) and abs(number) <= _MAX_SAFE_INTEGER:
        return str(number)
    value = float(number)
    if math.isnan(value) or math.isinf(value):
        raise ValueError("NaN and infinities have no JSON form")
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    # repr gives the shortest digits that round-trip, which is what ECMAScript picks too.
    digits_tuple, exponent = _shortest(abs(value))
    digits = "".join(map(str, digits_tuple))
    k = len(digits)
    n = k + exponent  # value = 0.digits * 10**n
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
        text = f"{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"
    return sign + text


def _shortest(value: float) -> tuple[tuple[int, ...], int]:
    _, digits, exponent = Decimal(repr(value)).as_tuple()
    assert isinstance(exponent, int)
    trimmed = list(digits)
    while len(trimmed) > 1 and trimmed[-1] == 0:
        trimmed.pop()
        exponent += 1
    return tuple(trimmed), exponent
