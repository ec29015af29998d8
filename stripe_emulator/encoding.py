"""Decoding of Stripe v1 form/query strings with bracket notation into nested dicts and lists."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

_SEGMENT = re.compile(r"\[([^\[\]]*)\]")

# Nodes under these keys are maps even when every key looks like an index.
_MAP_KEYS = frozenset({"metadata"})


class EncodingError(ValueError):
    """A key that cannot be parsed (for example `a[b` or a scalar reused as a container)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def split_key(key: str) -> list[str]:
    """Split `a[b][0][]` into `["a", "b", "0", ""]`."""
    head, sep, rest = key.partition("[")
    if not sep:
        return [key]
    rest = "[" + rest
    parts = [head]
    pos = 0
    for match in _SEGMENT.finditer(rest):
        if match.start() != pos:
            raise EncodingError(key, f"Invalid parameter name: {key}")
        parts.append(match.group(1))
        pos = match.end()
    if pos != len(rest) or not head:
        raise EncodingError(key, f"Invalid parameter name: {key}")
    return parts


def _insert(root: dict[str, Any], parts: list[str], value: str, key: str) -> None:
    node = root
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        name = str(len(node)) if part == "" else part
        if last:
            if isinstance(node.get(name), dict):
                raise EncodingError(key, f"Invalid parameter: {key} is both a value and an object")
            node[name] = value
            return
        child = node.setdefault(name, {})
        if not isinstance(child, dict):
            raise EncodingError(key, f"Invalid parameter: {key} is both a value and an object")
        node = child


def _finalize(node: Any, parent_key: str | None) -> Any:
    if not isinstance(node, dict):
        return node
    items = {k: _finalize(v, k) for k, v in node.items()}
    if parent_key not in _MAP_KEYS and items and all(k.isdigit() for k in items):
        return [items[k] for k in sorted(items, key=int)]
    return items


def parse_pairs(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Turn decoded (key, value) pairs into a nested structure; indexed keys become lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        _insert(root, split_key(key), value, key)
    result = _finalize(root, None)
    assert isinstance(result, dict)
    return result


def parse_qs(raw: str | bytes) -> dict[str, Any]:
    """Parse a query string or an x-www-form-urlencoded body (keys are URL-decoded first)."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return parse_pairs(parse_qsl(text, keep_blank_values=True))
