"""JSON bodies from strangers: bounded nesting, no lone UTF-16 surrogates.

`json.loads` recurses once per level (≈3,000 levels raise RecursionError, a 500) and accepts
`"\\ud800"`, a string no UTF-8 encoder (BSON, the response writer, openpyxl) can encode later, and
integers wider than BSON's 64 bits. All three are refused at the door as malformed JSON, so every view sees only documents it can store and echo.
"""
import json
import re

MAX_DEPTH = 32  # our deepest document (a survey definition) nests 5 levels
INT64 = 2 ** 63  # MongoDB stores nothing wider
_SURROGATE = re.compile("[\ud800-\udfff]")


class UnsafeJSON(json.JSONDecodeError):
    def __init__(self, message):
        super().__init__(message, "", 0)


def check(value, depth=0):
    """Raise UnsafeJSON when `value` nests deeper than MAX_DEPTH or holds a lone surrogate."""
    if depth > MAX_DEPTH:
        raise UnsafeJSON(f"nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):
        if _SURROGATE.search(value):
            raise UnsafeJSON("a string holds a lone UTF-16 surrogate")
    elif isinstance(value, int) and not -INT64 <= value < INT64:
        raise UnsafeJSON("an integer does not fit in 64 bits")
    elif isinstance(value, dict):
        for key, item in value.items():
            check(key, depth + 1)
            check(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            check(item, depth + 1)
    return value


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def _max_bracket_depth(text):
    # A linear pre-scan outside strings, so a 3,000-deep document never reaches the recursive decoder.
    depth = deepest = 0
    for char in re.findall(r"[\[\]{}]", _STRING.sub("", text)):
        depth += 1 if char in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def loads(raw):
    """Like json.loads (bytes or str), but raising json.JSONDecodeError for unsafe documents."""
    text = raw.decode("utf-8") if isinstance(raw, (bytes, bytearray)) else raw
    if _max_bracket_depth(text) > MAX_DEPTH:
        raise UnsafeJSON(f"nested deeper than {MAX_DEPTH} levels")
    try:
        value = json.loads(text)
    except RecursionError:
        raise UnsafeJSON(f"nested deeper than {MAX_DEPTH} levels") from None
    return check(value)
