"""Value-level deltas: what of a product differs from what the PIM last confirmed.

A payload is cut into parts: each value (attribute, locale, channel) and each top-level
field (family, categories, enabled, parent, ...). The state remembered per product and
stream is a short hash per part, never the payload: one version byte, an 8-byte hash of
the whole payload, then per part a 4-byte key hash and an 8-byte hash of its content,
sorted by key hash. Parts whose key hashes collide share one content hash (of all of
them), so a change in one sends both. The whole-payload hash settles the common case of a
nightly run, an unchanged product, with one hash instead of one per part.

Akeneo merges values on PATCH (a value not sent is kept; categories are replaced only when
sent), so only the differing parts go out. A mapped value the source no longer has is sent
as `data: null` (erased) when the PIM had it from this stream.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from target_akeneo.mapping import StreamMapping

_encode = msgspec.json.Encoder(order="sorted").encode
_VERSION = b"\x02"
_KEY_BYTES, _CONTENT_BYTES = 4, 8
_PART = _KEY_BYTES + _CONTENT_BYTES
_HEAD = len(_VERSION) + _CONTENT_BYTES  # the version, then the whole payload's hash
# The fields naming the line: always sent, never a part.
IDENTITY = ("identifier", "uuid", "code")

ValueKey = tuple[str, str | None, str | None]  # attribute, locale, channel
# key hash -> content hash
State = dict[bytes, bytes]


def value_keys(mapping: StreamMapping) -> tuple[ValueKey, ...]:
    """Every (attribute, locale, channel) a stream's mapping can fill: the values it may
    erase when its source has them no more."""
    keys: list[ValueKey] = []
    for spec in mapping.values:
        locales = spec.locales.values() if spec.locales else (spec.locale,)
        keys.extend((spec.attribute, locale, spec.scope) for locale in locales)
    return tuple(keys)


def _value_part(attribute: str, locale: str | None, scope: str | None) -> str:
    return f"{attribute}|{locale or ''}|{scope or ''}"


def _key_hash(part: str) -> bytes:
    return hashlib.blake2b(part.encode(), digest_size=_KEY_BYTES).digest()


def _parts(payload: Mapping[str, Any]) -> dict[bytes, list[tuple[str, bytes]]]:
    """The payload's parts by key hash: (part name, canonical JSON) each."""
    groups: dict[bytes, list[tuple[str, bytes]]] = {}
    for name, content in payload.items():
        if name in IDENTITY:
            continue
        if name != "values":
            part = "#" + name
            groups.setdefault(_key_hash(part), []).append((part, _encode(content)))
            continue
        for attribute, entries in content.items():
            for entry in entries:
                part = _value_part(attribute, entry.get("locale"), entry.get("scope"))
                groups.setdefault(_key_hash(part), []).append((part, _encode(entry)))
    return groups


def _content_hash(members: list[tuple[str, bytes]]) -> bytes:
    digest = hashlib.blake2b(digest_size=_CONTENT_BYTES)
    for part, encoded in sorted(members):
        digest.update(part.encode() + b"\x00" + encoded + b"\x00")
    return digest.digest()


def _whole_hash(payload: Mapping[str, Any]) -> bytes:
    return hashlib.blake2b(_encode(payload), digest_size=_CONTENT_BYTES).digest()


def _same_whole(whole_hash: bytes, confirmed: bytes) -> bool:
    return confirmed[:_HEAD] == _VERSION + whole_hash


def confirmed_as_is(payload: Mapping[str, Any], confirmed: bytes | None) -> bool:
    """Whether `payload` is the very payload the PIM confirmed (its whole-payload hash): the
    first test of `delta`, alone, for callers that only need to know (models.py's rows)."""
    return confirmed is not None and _same_whole(_whole_hash(payload), confirmed)


def encode_state(whole: bytes, state: State) -> bytes:
    return _VERSION + whole + b"".join(key + state[key] for key in sorted(state))


def decode_state(blob: bytes | None) -> State | None:
    """None for no state, or one this version cannot read (the product is sent whole)."""
    if not blob or blob[:1] != _VERSION or (len(blob) - _HEAD) % _PART or len(blob) < _HEAD:
        return None
    return {
        blob[at : at + _KEY_BYTES]: blob[at + _KEY_BYTES : at + _PART]
        for at in range(_HEAD, len(blob), _PART)
    }


@dataclass
class Delta:
    """What to send for one product (None: the PIM has it all) and the state to remember
    once the PIM confirms it."""

    payload: dict[str, Any] | None
    state: bytes


def count_values(payload: Mapping[str, Any]) -> int:
    return sum(len(entries) for entries in payload.get("values", {}).values())


def delta(
    payload: dict[str, Any],
    confirmed: bytes | None,
    *,
    whole: bool,
    erasable: Sequence[ValueKey] = (),
) -> Delta:
    """Compare a full payload with the state the PIM confirmed.

    `whole`: send the full payload when any part differs (the whole-product rule). Else only
    the differing parts, and `data: null` for each of `erasable` the payload lacks but the
    PIM had from this stream (not while the parent changes: a product becoming a variant
    loses its other-level values through the conversion, not here).
    """
    whole_hash = _whole_hash(payload)
    if confirmed is not None and _same_whole(whole_hash, confirmed):
        return Delta(None, confirmed)  # the common case: the very payload the PIM confirmed
    groups = _parts(payload)
    current = {key: _content_hash(members) for key, members in groups.items()}
    state = encode_state(whole_hash, current)
    known = decode_state(confirmed)
    if known is None:
        return Delta(payload, state)
    changed = {key for key, content in current.items() if known.get(key) != content}
    gone = known.keys() - current.keys()
    if whole and (changed or gone):
        return Delta(payload, state)
    if not changed and not gone:
        return Delta(None, state)  # the same parts in another order
    sent = {part for key in changed for part, _encoded in groups[key]}
    out: dict[str, Any] = {name: payload[name] for name in IDENTITY if name in payload}
    values: dict[str, list[dict[str, Any]]] = {}
    for name, content in payload.items():
        if name in IDENTITY:
            continue
        if name != "values":
            if "#" + name in sent:
                out[name] = content
            continue
        for attribute, entries in content.items():
            for entry in entries:
                if _value_part(attribute, entry.get("locale"), entry.get("scope")) in sent:
                    values.setdefault(attribute, []).append(entry)
    if "#parent" not in sent:
        for attribute, locale, scope in _erased(erasable, groups, changed | gone):
            values.setdefault(attribute, []).append(
                {"locale": locale, "scope": scope, "data": None}
            )
    if values:
        out["values"] = values
    if len(out) == len([name for name in IDENTITY if name in payload]):
        return Delta(None, state)
    return Delta(out, state)


def _erased(
    erasable: Iterable[ValueKey],
    groups: Mapping[bytes, list[tuple[str, bytes]]],
    differing: set[bytes],
) -> list[ValueKey]:
    """The mapped values the payload lacks whose key hash the confirmed state holds with
    another content (a key gone, or sharing its hash with a changed part)."""
    present = {part for members in groups.values() for part, _encoded in members}
    found = []
    for key in erasable:
        part = _value_part(*key)
        if part not in present and _key_hash(part) in differing:
            found.append(key)
    return found
