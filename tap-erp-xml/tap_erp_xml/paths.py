"""The small path language of ``record_path`` and field paths, resolved to Clark-notation tags."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tap_erp_xml.errors import ConfigError


@dataclass(frozen=True)
class Path:
    """Element steps (Clark tags, ``*`` or ``{*}local``), an optional final attribute, and
    the path as written (for messages)."""

    steps: tuple[str, ...]
    attribute: str | None
    text: str = "."


def qualify(name: str, namespaces: Mapping[str, str], setting: str, *, attribute: bool) -> str:
    """Turn ``prefix:local``, ``local``, ``*`` or ``*:local`` into lxml's Clark notation.

    Unprefixed element names take the namespace mapped to the empty prefix, if any (XPath
    would give them none); unprefixed attributes are never namespaced, as in XML itself.
    """
    if name == "*":
        return "*"
    prefix, sep, local = name.rpartition(":")
    if not local or not _is_name(local):
        raise ConfigError(f'{setting}: "{name}" is not a valid XML name')
    if not sep:
        default = None if attribute else namespaces.get("")
        return f"{{{default}}}{local}" if default else local
    if prefix == "*":
        return f"{{*}}{local}"
    uri = namespaces.get(prefix)
    if uri is None:
        raise ConfigError(f'{setting}: namespace prefix "{prefix}" is not declared in namespaces')
    return f"{{{uri}}}{local}"


def _is_name(local: str) -> bool:
    return all(ch.isalnum() or ch in "_-." for ch in local) and not local[0].isdigit()


def parse_path(text: str, namespaces: Mapping[str, str], setting: str) -> Path:
    """Parse a field path relative to an element: ``a/b``, ``@x``, ``.``, ``a/b/@c``."""
    parts = [p for p in text.strip().split("/") if p not in {"", "."}]
    if text.strip().startswith("/"):
        raise ConfigError(f'{setting}: "{text}" must be relative to the record element')
    attribute = None
    if parts and parts[-1].startswith("@"):
        attribute = qualify(parts.pop()[1:], namespaces, setting, attribute=True)
    for part in parts:
        if part.startswith("@") or part == "..":
            raise ConfigError(f'{setting}: "{text}": only the last step may be an @attribute')
    steps = tuple(qualify(p, namespaces, setting, attribute=False) for p in parts)
    return Path(steps=steps, attribute=attribute, text=text)


@dataclass(frozen=True)
class RecordPath:
    """Where record elements sit: the tag to stream on and the ancestors it must have."""

    tag: str
    ancestors: tuple[str, ...]
    absolute: bool
    text: str


def parse_record_path(text: str, namespaces: Mapping[str, str], setting: str) -> RecordPath:
    """Parse ``/a/b/c`` (from the root), ``//b/c`` or ``b/c`` (at any depth)."""
    absolute = text.startswith("/") and not text.startswith("//")
    parts = text.strip().lstrip("/").split("/")
    if not parts or any(not p or p.startswith("@") or p in {".", ".."} for p in parts):
        raise ConfigError(f'{setting}: "{text}" is not a path of element names')
    tags = tuple(qualify(p, namespaces, setting, attribute=False) for p in parts)
    if tags[-1] == "*":
        raise ConfigError(f'{setting}: "{text}": the last step must name the record element')
    return RecordPath(tag=tags[-1], ancestors=tags[:-1], absolute=absolute, text=text)


def tag_matches(pattern: str, tag: str) -> bool:
    """Match one Clark tag against a step pattern (exact, ``*`` or ``{*}local``)."""
    if not isinstance(tag, str):  # an unexpanded entity reference
        return False
    if pattern == "*":
        return True
    if pattern.startswith("{*}"):
        return tag.rpartition("}")[2] == pattern[3:]
    return tag == pattern
