"""`FIELD=VALUE` changes to a frozen dataclass config, typed like each field's default, for command lines."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from typing import Any


def parse_field_override(
    cls: type, text: str, *, pairs: bool = False, skip: Collection[str] = ()
) -> tuple[str, Any]:
    """``"name=value"`` as ``(name, value)`` typed like the field's default: a bool (true/false/1/0), a tuple
    of the default's element type (comma-separated; empty is the empty tuple; `pairs`: exactly LO,HI), or the
    default's own type. Fields in `skip` cannot be changed.

    Raises:
        ValueError: naming the fields on a bad name, or the shape the field takes on a bad value.
    """
    name, sep, value = text.partition("=")
    defaults = {f.name: f.default for f in dataclasses.fields(cls) if f.name not in skip}
    name, value = name.strip(), value.strip()
    if not sep or name not in defaults:
        raise ValueError(f"expected FIELD=VALUE with FIELD one of {', '.join(defaults)}; got {text!r}")
    default = defaults[name]
    try:
        if isinstance(default, bool):
            if value.lower() not in ("true", "false", "1", "0"):
                raise ValueError
            return name, value.lower() in ("true", "1")
        if isinstance(default, tuple):
            parts = tuple(type(default[0])(part) for part in value.split(",")) if value else ()
            if pairs and len(parts) != 2:
                raise ValueError
            return name, parts
        return name, type(default)(value)
    except ValueError:
        if isinstance(default, tuple):
            shape = "LO,HI" if pairs else "comma-separated values"
        else:
            shape = type(default).__name__
        raise ValueError(f"{name} takes {shape} (default {default}), got {value!r}") from None
