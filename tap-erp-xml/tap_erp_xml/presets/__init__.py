"""Stream definitions of common export formats, one JSON file each (``NAME.json``).

A preset holds what a stream definition holds (``record_path``, ``namespaces``,
``key_properties``, ``null_values``, ``fields``), and optionally ``extends``: the name of
another preset it starts from, and ``variants``: other layouts of the same format (Atom
beside RSS), each a list of settings over the preset's, tried in order when the preset's
own ``record_path`` does not match a document. ``settings.py`` merges a stream's own
settings over its preset's (and over each variant); the result is validated and parsed
like any stream.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

VARIANTS = "variants"
_FOLDER = resources.files(__name__)
NAMES: tuple[str, ...] = tuple(
    sorted(p.name.removesuffix(".json") for p in _FOLDER.iterdir() if p.name.endswith(".json"))
)


def load(name: str) -> dict[str, Any]:
    """The stream settings of preset ``name`` (one of ``NAMES``), its ``extends`` resolved."""
    preset: dict[str, Any] = json.loads((_FOLDER / f"{name}.json").read_text("utf-8"))
    preset.pop("description", None)
    base = preset.pop("extends", None)
    return preset if base is None else merge(load(base), preset)


def merge(base: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    """``own`` over ``base``: its settings win; namespaces and fields are merged by name
    (a field of ``own`` replaces the base's field of that name, new ones are added)."""
    merged = {**base, **own}
    for key in ("namespaces", "fields"):
        if key in base and key in own:
            merged[key] = {**base[key], **own[key]}
    return merged
