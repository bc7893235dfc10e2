"""Records without declared fields: each element becomes a nested object; schema by sampling.

Conventions: names are local names (namespace URIs dropped, so prefixes never leak into
column names); attributes become ``@name``; an element with neither attributes nor children
is its text (``null`` when empty); otherwise its own text goes under ``#text``; a child
name seen more than once in any sampled record is an array in every record. All leaves stay
strings: without declared types the tap does not guess.
"""

from __future__ import annotations

from typing import Any

from tap_erp_xml.reader import Element


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def element_value(elem: Element) -> Any:
    """The element as a string, ``None`` or a nested dict (repeated children as lists)."""
    text = elem.text.strip() if elem.text else ""
    if not len(elem) and not elem.attrib:
        return text or None
    value: dict[str, Any] = {f"@{_local(k)}": v for k, v in elem.attrib.items()}
    if text:
        value["#text"] = text
    repeated: set[str] = set()
    for child in elem:
        if not isinstance(child.tag, str):
            continue
        name = _local(child.tag)
        item = element_value(child)
        if name in repeated:
            value[name].append(item)
        elif name in value:
            value[name] = [value[name], item]
            repeated.add(name)
        else:
            value[name] = item
    return value


_STRING = {"type": ["string", "null"]}


def infer_schema(value: Any) -> dict[str, Any]:
    """JSON schema of one sampled value."""
    if isinstance(value, list):
        items: dict[str, Any] = {}
        for item in value:
            items = merge_schemas(items, infer_schema(item)) if items else infer_schema(item)
        return {"type": ["array", "null"], "items": items or dict(_STRING)}
    if isinstance(value, dict):
        return {
            "type": ["object", "null"],
            "properties": {k: infer_schema(v) for k, v in value.items()},
        }
    return dict(_STRING)


def _kind(schema: dict[str, Any]) -> str:
    kinds: list[str] = [t for t in schema["type"] if t != "null"]
    return kinds[0]


def merge_schemas(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Widest of two schemas: array beats single, object beats string."""
    ka, kb = _kind(a), _kind(b)
    if ka == "array" or kb == "array":
        ia = a["items"] if ka == "array" else a
        ib = b["items"] if kb == "array" else b
        return {"type": ["array", "null"], "items": merge_schemas(ia, ib)}
    if ka == "object" or kb == "object":
        props: dict[str, Any] = dict(a.get("properties", {}))
        if ka != "object" or kb != "object":
            props.setdefault("#text", dict(_STRING))
        for name, sub in b.get("properties", {}).items():
            props[name] = merge_schemas(props[name], sub) if name in props else sub
        return {"type": ["object", "null"], "properties": props}
    return dict(_STRING)


def conform(value: Any, schema: dict[str, Any]) -> Any:
    """Reshape a value to the sampled schema (wrap singles into arrays, text into objects)."""
    if value is None:
        return None
    kind = _kind(schema)
    if kind == "array":
        items = value if isinstance(value, list) else [value]
        return [conform(v, schema["items"]) for v in items]
    if kind == "object":
        if not isinstance(value, dict):
            value = {"#text": value}
        props = schema.get("properties", {})
        return {k: conform(v, props[k]) if k in props else v for k, v in value.items()}
    return value
