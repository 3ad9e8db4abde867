"""The one JSON reader every adapter uses for what comes in from outside."""

from __future__ import annotations

import json
import math
from typing import Any

import orjson


class BadJson(ValueError):
    """A body or frame that is not JSON the bot will take; the adapter answers 400."""


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400 reads as inf, and would be stored as "inf"
        raise BadJson(f"number out of range: {text[:40]}")
    return value


def _refuse_constant(name: str) -> Any:
    raise BadJson(f"{name} is not a number JSON allows")


# One decoder for every body (`json.loads` with options builds one per call).
_DECODER = json.JSONDecoder(parse_float=_finite, parse_constant=_refuse_constant)


# orjson reads a body in a fraction of the time, and refuses all that the reading below
# refuses; but it also refuses some JSON that reading takes (a lone surrogate, deep nesting, a
# byte order mark), and reads an integer beyond 64 bits as a float. So it reads only bodies
# without a run of 19 digits, and whatever it refuses is read again the exact way. (The run is
# looked for with every digit made "0" and everything else a space: a regular expression
# scans byte by byte, ten times slower.)
_DIGITS_ONLY = bytes(48 if 48 <= byte <= 57 else 32 for byte in range(256))
_LONG_INTEGER = b"0" * 19
_FAST_REFUSED = orjson.JSONDecodeError


def read_json(data: bytes | bytearray | str) -> Any:
    """`data` parsed as strict JSON: no NaN or Infinity, no number that overflows a float, no
    nesting deeper than Python can read. BadJson for anything else."""
    if type(data) is bytes and _LONG_INTEGER not in data.translate(_DIGITS_ONLY):
        try:
            return orjson.loads(data)
        except _FAST_REFUSED:
            pass  # refused, or JSON orjson does not take: read below, to tell which
    try:
        if not isinstance(data, str):  # bytes in any of JSON's encodings, as json.loads reads
            data = data.decode(json.detect_encoding(data), "surrogatepass")
        elif data.startswith("\ufeff"):
            raise BadJson("not JSON: a byte order mark before it")
        return _DECODER.decode(data)
    except RecursionError as exc:  # e.g. 60 KB of "[": the parser recurses once per level
        raise BadJson("nested too deeply") from exc
    except BadJson:
        raise
    except ValueError as exc:  # includes UnicodeDecodeError and JSONDecodeError
        raise BadJson(f"not JSON: {exc}") from exc


def read_object(data: bytes | bytearray | str) -> dict[str, Any]:
    """`data` as a JSON object (see read_json); BadJson if it is anything else."""
    value = read_json(data)
    if not isinstance(value, dict):
        raise BadJson("not a JSON object")
    return value
