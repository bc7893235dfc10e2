"""A stream's field specs compiled once into ONE generated Python function: element -> record.

Why generated code: reading a record's fields with a closure per field and per value costs
a Python call per matched child; written out as one function (one loop over the record's
children, an ``if``/``elif`` on the tag, each field's work inline, values in local
variables) the acceptance shape reads about 40% faster. Each method below emits the lines
of one concern, so a new field option is a new branch in one of them (and its schema in
settings.py). To see what was compiled, run with ``TAP_ERP_XML_LOGLEVEL=DEBUG`` (the source
of each stream's function is logged) or read ``compile_fields(specs).source``.

The generated function, for ``sku: SKU`` and ``name: {path: Name, key: "@lang"}``::

    def extract(elem):
        f0 = None
        f1 = None
        for c2 in elem:
            t3 = c2.tag
            if t3 == K0:
                # 'sku' <- 'SKU'
                if f0 is None:
                    v = c2.text if not len(c2) else "".join(c2.itertext())
                    ...
                    f0 = v
            elif t3 == K1:
                # 'name' <- 'Name'
                ...
        return {K2: f0, K3: f1}

Rules: a scalar is the first match with a value (text content, descendants included, or
the attribute), stripped, ``None`` when absent or empty; an array collects every match
(``[]`` once its container exists; always for one-step paths); ``key`` makes an object of
one entry per match; ``fields`` make an object (or array items) read on the matched element.
Only generated identifiers appear in the source: tags, names and converters from the
configuration are passed in as constants (``K0``, ``K1``, ...).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tap_erp_xml.convert import boolean_table, date_converter, scalar_schema
from tap_erp_xml.errors import ConversionFailure
from tap_erp_xml.paths import tag_matches
from tap_erp_xml.reader import Element
from tap_erp_xml.settings import FieldSpec

Extract = Callable[[Element], dict[str, Any]]


@dataclass(frozen=True)
class Compiled:
    """The extraction function of a stream's fields and its generated source."""

    extract: Extract
    source: str


def compile_fields(specs: tuple[FieldSpec, ...]) -> Compiled:
    """Generate, compile and return the function reading ``specs`` from a record element."""
    code = _Code()
    lines, record = code.record(specs, "elem", "")
    body = ["def extract(elem):", *_indent([*lines, f"return {record}"])]
    # Constants become closure cells of a factory: faster to read than globals. Their
    # values head the source as comments (repr: one line each, never code).
    legend = [f"# {name} = {_shown(value)}" for name, value in code.constants.items()]
    source = "\n".join(
        [
            *legend,
            f"def factory({', '.join(code.constants)}):",
            *_indent(body),
            "    return extract",
        ]
    )
    namespace: dict[str, Any] = {}
    exec(compile(source, "<tap-erp-xml fields>", "exec"), namespace)  # noqa: S102
    return Compiled(namespace["factory"](*code.constants.values()), source)


def _shown(value: Any) -> str:
    return (
        repr(value) if isinstance(value, str) else getattr(value, "__name__", type(value).__name__)
    )


def _indent(lines: list[str], depth: int = 1) -> list[str]:
    return ["    " * depth + line for line in lines]


class _Code:
    """Emits the lines of the extraction function; ``constants`` are its free names."""

    def __init__(self) -> None:
        self.constants: dict[str, Any] = {}
        self._numbers = itertools.count()
        self._failure = self.const(ConversionFailure)
        self._errors = self.const((ValueError, KeyError, OverflowError))
        self._tag_matches = self.const(tag_matches)

    def const(self, value: Any) -> str:
        """The name under which the generated code sees ``value``."""
        for name, existing in self.constants.items():
            if existing is value or (type(existing) is str and existing == value):
                return name
        name = f"K{len(self.constants)}"
        self.constants[name] = value
        return name

    def fresh(self, prefix: str) -> str:
        """A new local variable name."""
        return f"{prefix}{next(self._numbers)}"

    def record(self, specs: tuple[FieldSpec, ...], node: str, label: str) -> tuple[list[str], str]:
        """Lines reading ``specs`` on element ``node``, and the expression of the object.

        Fields whose path starts with a plain tag are served by one loop over the children;
        the others (``.``, ``@attr``, wildcards) are read on ``node`` after it.
        """
        variables = [self.fresh("f") for _ in specs]
        lines = [
            f"{var} = {'[]' if _always_list(s) else 'None'}"
            for var, s in zip(variables, specs, strict=True)
        ]
        child, tag = self.fresh("c"), self.fresh("t")
        branches: dict[str, list[str]] = {}
        after: list[str] = []
        for spec, var in zip(specs, variables, strict=True):
            name = label + spec.name
            comment = f"# {spec.name!r} <- {spec.path.text!r}"
            steps = spec.path.steps
            if steps and "*" not in steps[0]:
                work = self.matches(spec, var, child, steps[1:], name, single=False)
                branches.setdefault(steps[0], []).extend([comment, *work])
            else:
                after += [comment, *self.matches(spec, var, node, steps, name, single=not steps)]
        if branches:
            lines += [f"for {child} in {node}:", f"    {tag} = {child}.tag"]
            keyword = "if"
            for step, work in branches.items():
                lines += [f"    {keyword} {tag} == {self.const(step)}:", *_indent(work, 2)]
                keyword = "elif"
        items = ", ".join(
            f"{self.const(s.name)}: {v}" for s, v in zip(specs, variables, strict=True)
        )
        return [*lines, *after], f"{{{items}}}"

    def matches(
        self,
        spec: FieldSpec,
        var: str,
        node: str,
        steps: tuple[str, ...],
        label: str,
        *,
        single: bool,
    ) -> list[str]:
        """Lines doing the field's work on each element reached from ``node`` by ``steps``."""
        if not steps:
            return self.at_node(spec, var, node, label, single=single)
        lines = []
        if spec.type == "array" and spec.key is None and len(steps) == 1:
            lines = [f"if {var} is None:", f"    {var} = []"]  # the container exists
        item = self.fresh("n")
        inner = self.matches(spec, var, item, steps[1:], label, single=False)
        return [*lines, f"for {item} in {node}:", f"    if {self.tag_test(steps[0], item)}:",
                *_indent(inner, 2)]  # fmt: skip

    def tag_test(self, step: str, node: str) -> str:
        """Condition: ``node`` matches one path step (a tag, ``*`` or ``{*}local``)."""
        if "*" in step:
            return f"{self._tag_matches}({self.const(step)}, {node}.tag)"
        return f"{node}.tag == {self.const(step)}"

    def at_node(
        self, spec: FieldSpec, var: str, node: str, label: str, *, single: bool
    ) -> list[str]:
        """The field's work on one matched element: keep, collect or key its value."""
        value = self.value(spec, node, label)
        if spec.key is not None:
            key = self.fresh("k")
            return [*self.key(spec, node, key, label), f"if {var} is None:", f"    {var} = {{}}",
                    *value, f"{var}[{key}] = v"]  # fmt: skip
        if spec.type == "array":
            return [*value, "if v is not None:", f"    {var}.append(v)"]
        if single:
            return [*value, f"{var} = v"]
        return [f"if {var} is None:", *_indent(value), f"    {var} = v"]

    def key(self, spec: FieldSpec, node: str, key: str, label: str) -> list[str]:
        """Set ``key`` to the key of a keyed field's entry (first value at the key path)."""
        assert spec.key is not None
        path = spec.key
        if path.steps:
            lines = [f"{key} = None", *self.first(path.steps, path.attribute, node, key)]
        else:  # the usual ``@lang``: read on the matched element itself
            lines = [*self.read(node, path.attribute), f"{key} = v"]
        why = ", ".join(map(self.const, (label, path.text, f"an object keyed by {path.text}")))
        return [*lines, f"if {key} is None:", f"    raise {self._failure}({why})"]

    def first(
        self, steps: tuple[str, ...], attribute: str | None, node: str, var: str
    ) -> list[str]:
        """Set ``var`` (None before) to the first text or attribute value found by the path."""
        if not steps:
            return [f"if {var} is None:", *_indent(self.read(node, attribute)), f"    {var} = v"]
        item = self.fresh("n")
        return [f"for {item} in {node}:", f"    if {self.tag_test(steps[0], item)}:",
                *_indent(self.first(steps[1:], attribute, item, var), 2)]  # fmt: skip

    def value(self, spec: FieldSpec, node: str, label: str) -> list[str]:
        """Set ``v`` to the value of one matched element: an object, or a converted scalar."""
        if spec.fields:
            lines, record = self.record(spec.fields, node, f"{label}.")
            return [*lines, f"v = {record}"]
        return [*self.read(node, spec.path.attribute), *self.convert(spec, label)]

    def read(self, node: str, attribute: str | None) -> list[str]:
        """Set ``v`` to the stripped text content or attribute, None when absent or empty."""
        if attribute is None:
            read = f'v = {node}.text if not len({node}) else "".join({node}.itertext())'
        else:
            read = f"v = {node}.get({self.const(attribute)})"
        return [read, "if v is not None:", "    v = v.strip() or None"]

    def convert(self, spec: FieldSpec, label: str) -> list[str]:
        """Convert a non-None ``v`` to the declared type, in place.

        Inlined (a call less per value): ``int``, ``float`` after the separators, the
        boolean table, and the date memo's cache (the memo is called on a miss only).
        """
        type_name = spec.value_type
        if type_name == "string":
            return []
        if type_name == "integer":
            steps = ["v = int(v)"]
        elif type_name == "number":
            text = "v"
            if spec.thousands_separator:
                text = f"{text}.replace({self.const(spec.thousands_separator)}, '')"
            if spec.decimal_separator != ".":
                text = f"{text}.replace({self.const(spec.decimal_separator)}, '.')"
            steps = [f"v = float({text})"]
        elif type_name == "boolean":
            steps = [f"v = {self.const(boolean_table(spec))}[v.lower()]"]
        else:
            memo = date_converter(spec, type_name)
            steps = [
                f"w = {self.const(memo.cache)}.get(v)",
                f"v = {self.const(memo)}(v) if w is None else w",
            ]
        failure = f"{self._failure}({self.const(label)}, v, {self.const(type_name)})"
        return ["if v is not None:", "    try:", *_indent(steps, 2),
                f"    except {self._errors}:", f"        raise {failure} from None"]  # fmt: skip


def _always_list(spec: FieldSpec) -> bool:
    """A one-step array is ``[]`` even without matches: its container is the element."""
    return spec.type == "array" and spec.key is None and len(spec.path.steps) == 1


def field_schema(spec: FieldSpec) -> dict[str, Any]:
    """JSON schema of one field, following its declared type."""
    if spec.fields:
        node: dict[str, Any] = {
            "type": ["object", "null"],
            "properties": {s.name: field_schema(s) for s in spec.fields},
        }
    else:
        node = scalar_schema(spec.value_type)
    if spec.key is not None:
        return {"type": ["object", "null"], "additionalProperties": node}
    if spec.type == "array":
        item = dict(node)
        item["type"] = [t for t in node["type"] if t != "null"]
        return {"type": ["array", "null"], "items": item}
    return node
