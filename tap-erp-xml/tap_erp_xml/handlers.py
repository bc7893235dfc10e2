"""The hot path of field extraction: flat closures, one Python call per matched node.

Profiling the acceptance shape showed the cost is in Python calls and lxml proxies, not in
the work itself: a value read through reader -> converter -> raw-text layers cost three
calls, ``iterchildren(tag)`` builds a tag matcher per call, and a generator per match adds
another frame. Each closure here does its whole job (text or attribute, strip, convert,
store) inline, and items of a container are picked by comparing ``tag`` while iterating its
children once. Semantics are those of the general compiler in fields.py, which still
handles every path these closures do not (wildcards, deeper steps).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeAlias

from lxml import etree

from tap_erp_xml.convert import Converter
from tap_erp_xml.errors import ConversionFailure

Element: TypeAlias = etree._Element
Extractor = Callable[[Element], Any]
Handler = Callable[[Element, dict[str, Any]], None]
_CONVERSION_ERRORS = (ValueError, KeyError, OverflowError)


def element_text(elem: Element) -> str | None:
    """Stripped text content (descendants included); empty text counts as absent."""
    text = elem.text if not len(elem) else "".join(elem.itertext())
    if text is None:
        return None
    text = text.strip()
    return text or None


def attribute_text(attribute: str) -> Extractor:
    """node -> stripped value of one attribute, ``None`` when absent or empty."""

    def read(node: Element) -> str | None:
        value = node.get(attribute)
        if value is None:
            return None
        value = value.strip()
        return value or None

    return read


def text_value(convert: Converter | None, label: str, type_name: str) -> Extractor:
    """node -> its converted text content (``None`` when absent or empty)."""
    if convert is None:
        return element_text

    def converted(node: Element) -> Any:
        text = node.text if not len(node) else "".join(node.itertext())
        if text is None:
            return None
        text = text.strip()
        if not text:
            return None
        try:
            return convert(text)
        except _CONVERSION_ERRORS:
            raise ConversionFailure(label, text, type_name) from None

    return converted


def attribute_value(
    attribute: str, convert: Converter | None, label: str, type_name: str
) -> Extractor:
    """node -> converted value of one of its attributes (``None`` when absent or empty)."""
    if convert is None:
        return attribute_text(attribute)

    def converted(node: Element) -> Any:
        value = node.get(attribute)
        if value is None:
            return None
        value = value.strip()
        if not value:
            return None
        try:
            return convert(value)
        except _CONVERSION_ERRORS:
            raise ConversionFailure(label, value, type_name) from None

    return converted


def node_value(
    attribute: str | None, convert: Converter | None, label: str, type_name: str
) -> Extractor:
    """node -> converted text or attribute value."""
    if attribute is None:
        return text_value(convert, label, type_name)
    return attribute_value(attribute, convert, label, type_name)


def text_handler(name: str, convert: Converter | None, type_name: str) -> Handler:
    """A direct child's text, converted; the first non-empty match wins."""
    if convert is None:

        def text_of(child: Element, record: dict[str, Any]) -> None:
            if record[name] is not None:
                return
            text = child.text if not len(child) else "".join(child.itertext())
            if text is not None:
                record[name] = text.strip() or None

        return text_of

    def converted_text_of(child: Element, record: dict[str, Any]) -> None:
        if record[name] is not None:
            return
        text = child.text if not len(child) else "".join(child.itertext())
        if text is None:
            return
        text = text.strip()
        if not text:
            return
        try:
            record[name] = convert(text)
        except _CONVERSION_ERRORS:
            raise ConversionFailure(name, text, type_name) from None

    return converted_text_of


def first_value_handler(name: str, value: Extractor) -> Handler:
    """A value read on the child itself (``Child/@attr``); the first match with one wins."""

    def first(child: Element, record: dict[str, Any]) -> None:
        if record[name] is None:
            record[name] = value(child)

    return first


def keyed_handler(name: str, key_of: Extractor, key_spec: str, value: Extractor) -> Handler:
    """Per-language texts and the like: each matching child adds one key to an object."""

    def keyed(child: Element, record: dict[str, Any]) -> None:
        key = key_of(child)
        if key is None:
            raise ConversionFailure(name, key_spec, f"an object keyed by {key_spec}")
        current = record[name]
        if current is None:
            current = record[name] = {}
        current[key] = value(child)

    return keyed


def attribute_keyed_handler(name: str, attribute: str, key_spec: str, value: Extractor) -> Handler:
    """``keyed_handler`` for the usual key, an attribute of the child (``@lang``), inlined."""

    def keyed(child: Element, record: dict[str, Any]) -> None:
        key = child.get(attribute)
        if key is not None:
            key = key.strip()
        if not key:
            raise ConversionFailure(name, key_spec, f"an object keyed by {key_spec}")
        current = record[name]
        if current is None:
            current = record[name] = {}
        current[key] = value(child)

    return keyed


def items_handler(name: str, tag: str, value: Extractor) -> Handler:
    """Array items ``Container/Item``: the container exists, so the array is at least ``[]``."""

    def items(child: Element, record: dict[str, Any]) -> None:
        current = record[name]
        if current is None:
            current = record[name] = []
        for node in child:
            if node.tag == tag:
                item = value(node)
                if item is not None:
                    current.append(item)

    return items


def self_items_handler(name: str, value: Extractor) -> Handler:
    """Array items that are the matched children themselves (one-step array paths)."""

    def items(child: Element, record: dict[str, Any]) -> None:
        item = value(child)
        if item is None:
            return
        current = record[name]
        if current is None:
            record[name] = [item]
        else:
            current.append(item)

    return items


def chain(handlers: list[Handler]) -> Handler:
    """Several fields reading the same child (``Weight`` and ``Weight/@unit``)."""
    if len(handlers) == 1:
        return handlers[0]
    if len(handlers) == 2:  # the usual case, without a loop
        head, tail = handlers

        def pair(child: Element, record: dict[str, Any]) -> None:
            head(child, record)
            tail(child, record)

        return pair

    def chained(child: Element, record: dict[str, Any]) -> None:
        for handler in handlers:
            handler(child, record)

    return chained
