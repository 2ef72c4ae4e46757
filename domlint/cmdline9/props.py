"""QEMU option values as libvirt 9.0 writes them: JSON objects, or the older key=value form.

Families build an ordered dict of properties once; whether it is printed as
JSON (``-device '{...}'``) or as ``key=value,...`` depends only on the
capabilities, and that choice is made here.
"""

from __future__ import annotations

import json
from typing import Any

Props = dict[str, Any]


def to_json(props: Props) -> str:
    """Compact JSON with keys in insertion order, as libvirt's JSON writer prints them."""
    return json.dumps(props, separators=(",", ":"), ensure_ascii=False)


def _keyval_value(value: Any) -> str:
    if value is True:
        return "on"
    if value is False:
        return "off"
    return str(value).replace(",", ",,")


def to_keyval(props: Props, first: str | None = None) -> str:
    """key=value pairs; `first` names a key whose value is written bare at the front (e.g. the driver)."""
    parts: list[str] = []
    if first is not None and first in props:
        parts.append(_keyval_value(props[first]))
    for key, value in props.items():
        if key == first or value is None:
            continue
        if isinstance(value, list):
            # QEMU's keyval syntax for arrays: one key per element.
            parts.extend(f"{key}={_keyval_value(v)}" for v in value)
        elif isinstance(value, dict):
            parts.extend(f"{key}.{k}={_keyval_value(v)}" for k, v in value.items())
        else:
            parts.append(f"{key}={_keyval_value(value)}")
    return ",".join(parts)


def compact(props: Props) -> Props:
    """The properties without the ones left unset (None), keeping order."""
    return {k: v for k, v in props.items() if v is not None}
