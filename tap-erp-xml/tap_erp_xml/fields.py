"""Field specs compiled once into plain closures over an lxml element, plus their JSON schema.

Measured on the acceptance shape: element proxies and tag strings dominate the cost, so a
record is read in ONE pass over its children, each child dispatched by tag to the fields
whose path starts with it. Per-field ``find`` (ElementPath, in Python) cost ~4 us a field,
compiled ``XPath`` ~3 us and ``iterchildren(tag)`` ~2-5 us (it builds a tag matcher per
call) - each more than the whole dispatch per child. Deeper steps use ``iterchildren``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NoReturn, TypeAlias

from lxml import etree

from tap_erp_xml.config import SCALAR_TYPES, FieldSpec
from tap_erp_xml.convert import Converter, scalar_converter, scalar_schema
from tap_erp_xml.errors import ConfigError, ConversionFailure
from tap_erp_xml.paths import Path, parse_path

Element: TypeAlias = etree._Element
Extractor = Callable[[Element], Any]
Handler = Callable[[Element, dict[str, Any]], None]


def element_text(elem: Element) -> str | None:
    """Stripped text content (descendants included); empty text counts as absent."""
    text = elem.text if not len(elem) else "".join(elem.itertext())
    if text is None:
        return None
    text = text.strip()
    return text or None


def iter_matches(elem: Element, steps: tuple[str, ...]) -> Iterator[Element]:
    """Elements reached from ``elem`` by the steps, in document order."""
    if not steps:
        yield elem
        return
    head, rest = steps[0], steps[1:]
    children = elem.iterchildren() if head == "*" else elem.iterchildren(head)
    for child in children:
        if rest:
            yield from iter_matches(child, rest)
        else:
            yield child


def _matcher(steps: tuple[str, ...]) -> Callable[[Element], Iterable[Element]]:
    """Fast paths for the usual zero or one step; a generator walk for deeper paths."""
    if not steps:
        return lambda node: (node,)
    if len(steps) == 1 and steps[0] != "*":
        tag = steps[0]
        return lambda node: node.iterchildren(tag)
    return lambda node: iter_matches(node, steps)


def _is_plain(step: str) -> bool:
    return "*" not in step


def _reader(
    attribute: str | None, convert: Converter | None, label: str, type_name: str
) -> Extractor:
    """node -> converted value of its text or attribute (``None`` when absent or empty)."""
    if attribute is not None:

        def raw_attribute(node: Element) -> str | None:
            value = node.get(attribute)
            if value is None:
                return None
            value = value.strip()
            return value or None

        raw: Extractor = raw_attribute
    else:
        raw = element_text
    if convert is None:
        return raw

    def converted(node: Element) -> Any:
        text = raw(node)
        if text is None:
            return None
        try:
            return convert(text)
        except (ValueError, KeyError, OverflowError):
            raise ConversionFailure(label, text, type_name) from None

    return converted


def _text_handler(name: str, convert: Converter | None, type_name: str) -> Handler:
    """The hot path: the text of a direct child, converted; the first non-empty match wins."""

    def text_of(child: Element, record: dict[str, Any]) -> None:
        if record[name] is not None:
            return
        text = child.text if not len(child) else "".join(child.itertext())
        if text is None:
            return
        text = text.strip()
        if not text:
            return
        if convert is None:
            record[name] = text
            return
        try:
            record[name] = convert(text)
        except (ValueError, KeyError, OverflowError):
            raise ConversionFailure(name, text, type_name) from None

    return text_of


def _chain(handlers: list[Handler]) -> Handler:
    def chained(child: Element, record: dict[str, Any]) -> None:
        for handler in handlers:
            handler(child, record)

    return chained


class FieldCompiler:
    """Compiles field specs against one stream's namespace map."""

    def __init__(self, namespaces: Mapping[str, str]) -> None:
        self._namespaces = namespaces

    def _path(self, spec: FieldSpec) -> Path:
        return parse_path(spec.path, self._namespaces, f"{spec.setting}.path")

    def record(self, specs: tuple[FieldSpec, ...]) -> Callable[[Element], dict[str, Any]]:
        """Compile the top-level fields into one function element -> record dict."""
        by_tag: dict[str, list[Handler]] = {}
        after: list[tuple[str, Extractor]] = []
        always_list: list[str] = []
        for spec in specs:
            path = self._path(spec)
            if path.steps and _is_plain(path.steps[0]):
                by_tag.setdefault(path.steps[0], []).append(self._child_handler(spec, path))
                if spec.type == "array" and spec.key is None and len(path.steps) == 1:
                    always_list.append(spec.name)
            else:
                after.append((spec.name, self._field(spec, spec.name)))
        table = {tag: hs[0] if len(hs) == 1 else _chain(hs) for tag, hs in by_tag.items()}
        template: dict[str, Any] = dict.fromkeys(spec.name for spec in specs)

        def extract(elem: Element) -> dict[str, Any]:
            record = template.copy()
            get = table.get
            for child in elem:
                handler = get(child.tag)
                if handler is not None:
                    handler(child, record)
            for name in always_list:
                if record[name] is None:
                    record[name] = []
            for name, fn in after:
                record[name] = fn(elem)
            return record

        return extract

    def _child_handler(self, spec: FieldSpec, path: Path) -> Handler:
        """Handler of one direct child whose tag is the first step of the field's path."""
        name = spec.name
        rest = path.steps[1:]
        if spec.key is not None:
            return self._keyed_child(spec, Path(rest, path.attribute))
        if spec.type == "array":
            value = self._node_value(spec, name)
            nodes_of = _matcher(rest)

            def items(child: Element, record: dict[str, Any]) -> None:
                current = record[name]
                if current is None:
                    current = record[name] = []
                for node in nodes_of(child):
                    item = value(node)
                    if item is not None:
                        current.append(item)

            return items
        if not rest and path.attribute is None and spec.type in SCALAR_TYPES:
            return _text_handler(name, scalar_converter(spec, spec.type), spec.type)
        value = self._node_value(spec, name)

        def first(child: Element, record: dict[str, Any]) -> None:
            if record[name] is not None:
                return
            node = next(iter_matches(child, rest), None) if rest else child
            if node is not None:
                record[name] = value(node)

        return first

    def _keyed_child(self, spec: FieldSpec, rest: Path) -> Handler:
        """Per-language texts and the like: each matching child adds one key to an object."""
        name = spec.name
        nodes_of = _matcher(rest.steps)
        key_path = parse_path(spec.key or "", self._namespaces, f"{spec.setting}.key")
        key_of = _matcher(key_path.steps)
        key_reader = _reader(key_path.attribute, None, name, "key")
        value = self._node_value(spec, name)

        def keyed_part(child: Element, record: dict[str, Any]) -> None:
            for node in nodes_of(child):
                key_node = next(iter(key_of(node)), None)
                key = None if key_node is None else key_reader(key_node)
                if key is None:
                    raise ConversionFailure(name, spec.key or "", f"an object keyed by {spec.key}")
                current = record[name]
                if current is None:
                    current = record[name] = {}
                current[key] = value(node)

        return keyed_part

    def _node_value(self, spec: FieldSpec, label: str) -> Extractor:
        """How to turn one matched node into a value (scalar, array item or object)."""
        if spec.fields:
            if self._path(spec).attribute is not None:
                raise_config(spec, "an @attribute path cannot have fields")
            inner = [(s.name, self._field(s, f"{label}.{s.name}")) for s in spec.fields]

            def obj(node: Element) -> dict[str, Any]:
                return {name: fn(node) for name, fn in inner}

            return obj
        type_name = spec.items if spec.type == "array" else spec.type
        if type_name == "object":
            raise_config(spec, "type object needs fields")
        convert = scalar_converter(spec, type_name)
        return _reader(self._path(spec).attribute, convert, label, type_name)

    def _field(self, spec: FieldSpec, label: str) -> Extractor:
        """A field evaluated on one element (nested fields, or paths from the record itself)."""
        path = self._path(spec)
        if spec.key is not None:
            return self._keyed(spec, path, label)
        if spec.type == "array":
            return self._array(spec, path, label)
        value = self._node_value(spec, label)
        steps = path.steps
        if not steps:
            return value

        def single(elem: Element) -> Any:
            node = next(iter_matches(elem, steps), None)
            return None if node is None else value(node)

        return single

    def _array(self, spec: FieldSpec, path: Path, label: str) -> Extractor:
        if not path.steps:
            raise_config(spec, "an array path needs at least one element step")
        value = self._node_value(spec, label)
        parents, leaf = path.steps[:-1], path.steps[-1:]

        def array(elem: Element) -> list[Any] | None:
            found = list(iter_matches(elem, parents))
            if not found:
                return None
            nodes = (node for parent in found for node in iter_matches(parent, leaf))
            return [item for item in map(value, nodes) if item is not None]

        return array

    def _keyed(self, spec: FieldSpec, path: Path, label: str) -> Extractor:
        steps = path.steps
        key_path = parse_path(spec.key or "", self._namespaces, f"{spec.setting}.key")
        key_steps = key_path.steps
        key_reader = _reader(key_path.attribute, None, label, "key")
        value = self._node_value(spec, label)

        def keyed(elem: Element) -> dict[str, Any] | None:
            result: dict[str, Any] = {}
            for node in iter_matches(elem, steps):
                key_node = next(iter_matches(node, key_steps), None) if key_steps else node
                key = None if key_node is None else key_reader(key_node)
                if key is None:
                    raise ConversionFailure(label, spec.key or "", f"an object keyed by {spec.key}")
                result[key] = value(node)
            return result or None

        return keyed


def raise_config(spec: FieldSpec, reason: str) -> NoReturn:
    """Raise a configuration error naming the field's setting."""
    raise ConfigError(f"{spec.setting}: {reason}")


def field_schema(spec: FieldSpec) -> dict[str, Any]:
    """JSON schema of one field, following its declared type."""
    if spec.fields:
        node: dict[str, Any] = {
            "type": ["object", "null"],
            "properties": {s.name: field_schema(s) for s in spec.fields},
        }
    else:
        node = scalar_schema(spec.items if spec.type == "array" else spec.type)
    if spec.key is not None:
        return {"type": ["object", "null"], "additionalProperties": node}
    if spec.type == "array":
        item = dict(node)
        item["type"] = [t for t in node["type"] if t != "null"]
        return {"type": ["array", "null"], "items": item}
    return node
