"""Field specs compiled once into plain closures over an lxml element, plus their JSON schema.

The general compiler: every path the configuration allows (wildcards, deeper steps, keys
read from child elements). Streams whose fields all have the usual shapes get the faster
generated function of codegen.py instead, which must give the same records (its tests
compare the two). A record (and each nested object) is read in ONE pass over its children,
each child dispatched by tag to the fields whose path starts with it: per-field ``find``
(ElementPath, in Python) cost ~4 us a field, compiled ``XPath`` ~3 us and
``iterchildren(tag)`` ~2-5 us (it builds a tag matcher per call).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NoReturn

from tap_erp_xml.config import FieldSpec
from tap_erp_xml.convert import scalar_converter, scalar_schema
from tap_erp_xml.errors import ConfigError, ConversionFailure
from tap_erp_xml.handlers import Element, Extractor, Handler, chain, element_text, node_value
from tap_erp_xml.paths import Path, parse_path

__all__ = ["Element", "FieldCompiler", "element_text", "field_schema", "iter_matches"]


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


def is_plain(step: str) -> bool:
    """A step naming one tag (no wildcard)."""
    return "*" not in step


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
            if path.steps and is_plain(path.steps[0]):
                by_tag.setdefault(path.steps[0], []).append(self._child_handler(spec, path))
                if spec.type == "array" and spec.key is None and len(path.steps) == 1:
                    always_list.append(spec.name)
            else:
                after.append((spec.name, self._field(spec, spec.name)))
        table = {tag: chain(handlers) for tag, handlers in by_tag.items()}
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
        value = self._node_value(spec, name)
        nodes_of = _matcher(rest)
        if spec.type == "array":

            def items(child: Element, record: dict[str, Any]) -> None:
                current = record[name]
                if current is None:
                    current = record[name] = []
                for node in nodes_of(child):
                    item = value(node)
                    if item is not None:
                        current.append(item)

            return items

        def first(child: Element, record: dict[str, Any]) -> None:
            """The first match with a value wins."""
            if record[name] is not None:
                return
            node = next(iter(nodes_of(child)), None)
            if node is not None:
                record[name] = value(node)

        return first

    def _keyed_child(self, spec: FieldSpec, rest: Path) -> Handler:
        """Per-language texts and the like: each matching child adds one key to an object."""
        name = spec.name
        key_spec = spec.key or ""
        key_path = parse_path(key_spec, self._namespaces, f"{spec.setting}.key")
        value = self._node_value(spec, name)
        key_reader = node_value(key_path.attribute, None, name, "key")
        nodes_of = _matcher(rest.steps)
        key_of = _matcher(key_path.steps)

        def keyed_part(child: Element, record: dict[str, Any]) -> None:
            for node in nodes_of(child):
                key_node = next(iter(key_of(node)), None)
                key = None if key_node is None else key_reader(key_node)
                if key is None:
                    raise ConversionFailure(name, key_spec, f"an object keyed by {key_spec}")
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
                result: dict[str, Any] = {}
                for name, fn in inner:
                    result[name] = fn(node)
                return result

            return obj
        type_name = spec.items if spec.type == "array" else spec.type
        if type_name == "object":
            raise_config(spec, "type object needs fields")
        convert = scalar_converter(spec, type_name)
        return node_value(self._path(spec).attribute, convert, label, type_name)

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
        key_reader = node_value(key_path.attribute, None, label, "key")
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
