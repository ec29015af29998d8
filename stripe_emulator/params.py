"""Validation helpers for decoded request params (ints, bools, enums, metadata, unknown keys)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .errors import ApiError, invalid, missing, unknown
from .store import JSON


def check_keys(params: Any, allowed: Iterable[str], prefix: str = "") -> JSON:
    """Reject keys that are not in `allowed`; `prefix` renders nested names like `a[0][b]`."""
    if not isinstance(params, dict):
        raise invalid(f"Invalid object: {prefix or 'params'} must be an object.", prefix or None)
    allowed_set = set(allowed)
    for key in params:
        if key not in allowed_set:
            raise unknown(f"{prefix}[{key}]" if prefix else key)
    return params


def string(params: JSON, key: str, param: str | None = None, *, required: bool = False,
           choices: Iterable[str] | None = None) -> str | None:
    name = param or key
    value = params.get(key)
    if value is None or value == "":
        if required:
            raise missing(name)
        return None
    if not isinstance(value, str):
        raise invalid(f"Invalid string: {name} must be a string.", name)
    if choices is not None:
        options = list(choices)
        if value not in options:
            raise invalid(f"Invalid {name}: must be one of {', '.join(options)}", name)
    return value


def integer(params: JSON, key: str, param: str | None = None, *, required: bool = False,
            minimum: int | None = None, maximum: int | None = None) -> int | None:
    name = param or key
    value = params.get(key)
    if value is None or value == "":
        if required:
            raise missing(name)
        return None
    if not isinstance(value, str) or not value.lstrip("-").isdigit():
        raise ApiError(400, f"Invalid integer: {value}", code="parameter_invalid_integer",
                       param=name)
    number = int(value)
    if minimum is not None and number < minimum:
        raise ApiError(400, f"This value must be greater than or equal to {minimum}.",
                       code="parameter_invalid_integer", param=name)
    if maximum is not None and number > maximum:
        raise ApiError(400, f"This value must be less than or equal to {maximum}.",
                       code="parameter_invalid_integer", param=name)
    return number


def boolean(params: JSON, key: str, param: str | None = None) -> bool | None:
    value = params.get(key)
    if value is None or value == "":
        return None
    if value not in ("true", "false"):
        raise invalid(f"Invalid boolean: {value}", param or key)
    return bool(value == "true")


def metadata(params: JSON, key: str = "metadata", param: str | None = None) -> JSON:
    """Metadata map; empty values are dropped (Stripe: posting an empty value unsets a key)."""
    name = param or key
    value = params.get(key)
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise invalid(f"Invalid object: {name} must be a hash of string keys and values.", name)
    result: JSON = {}
    for k, v in value.items():
        if not isinstance(v, str):
            raise invalid(f"Invalid value for {name}[{k}]: metadata values must be strings.",
                          f"{name}[{k}]")
        if len(k) > 40:
            raise invalid("Metadata keys can have a maximum length of 40 characters.",
                          f"{name}[{k}]")
        if len(v) > 500:
            raise invalid("Metadata values can have a maximum length of 500 characters.",
                          f"{name}[{k}]")
        if v != "":
            result[k] = v
    if len(result) > 50:
        raise invalid("Metadata can have a maximum of 50 keys.", name)
    return result


def string_list(params: JSON, key: str, param: str | None = None) -> list[str]:
    name = param or key
    value = params.get(key)
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise invalid(f"Invalid array: {name} must be a list of strings.", name)
    return list(value)


def sub_dict(params: JSON, key: str, allowed: Iterable[str], prefix: str | None = None) -> JSON:
    value = params.get(key)
    if value is None or value == "":
        return {}
    return check_keys(value, allowed, prefix or key)
