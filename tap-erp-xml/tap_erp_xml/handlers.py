"""Reading one node's value: its text or an attribute, stripped, converted; ``None`` when
absent or empty. Used by the general compiler of fields.py; codegen.py inlines the same
steps for the usual shapes.
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
