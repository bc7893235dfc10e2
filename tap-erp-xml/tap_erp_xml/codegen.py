"""Record extraction for the usual field shapes, generated as ONE Python function per stream.

The closures of fields.py/handlers.py cost a Python call per matched child (and per nested
field), and a dict store per value; on the acceptance shape that is a quarter of the tap's
time per record. When every field has one of the shapes below, the stream's fields are
instead written out as the body of a single function: one loop over the record's children,
an ``if``/``elif`` on the tag, each field's work inline, values kept in local variables and
the record built once at the end. Semantics are exactly those of the closures (first
non-empty match wins, ``None`` for absent or empty, the same conversion errors), which the
tests check field by field against the general compiler.

Supported shapes (anything else makes ``compile_record`` return ``None``):
``Child``, ``Child/@attr``, ``@attr``, ``.``, ``Child`` keyed by ``@attr``, arrays
``Child`` and ``Container/Item``, and array items with fields ``.`` / ``@attr``.

Only generated identifiers appear in the source text: every tag, attribute, field name and
converter from the configuration is passed in the namespace the code runs in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tap_erp_xml.config import SCALAR_TYPES, FieldSpec
from tap_erp_xml.convert import Memo, boolean_table, scalar_converter
from tap_erp_xml.errors import ConversionFailure
from tap_erp_xml.fields import is_plain
from tap_erp_xml.handlers import Element
from tap_erp_xml.paths import Path, parse_path

RecordExtractor = Callable[[Element], dict[str, Any]]


@dataclass
class _Source:
    """Generated lines plus the constants they refer to."""

    constants: dict[str, Any] = field(default_factory=dict)

    def const(self, value: Any) -> str:
        """A namespace name holding ``value`` (one per distinct constant)."""
        for name, existing in self.constants.items():
            if existing is value or (type(existing) is str and existing == value):
                return name
        name = f"c{len(self.constants)}"
        self.constants[name] = value
        return name


class _Unsupported(Exception):  # noqa: N818 - internal signal: use the general compiler
    pass


def _indent(lines: list[str], depth: int = 1) -> list[str]:
    return ["    " * depth + line for line in lines]


class _Generator:
    def __init__(self, namespaces: Mapping[str, str]) -> None:
        self._namespaces = namespaces
        self.src = _Source()
        self._errors = self.src.const((ValueError, KeyError, OverflowError))
        self._failure = self.src.const(ConversionFailure)

    def path(self, spec: FieldSpec) -> Path:
        return parse_path(spec.path, self._namespaces, f"{spec.setting}.path")

    def convert_lines(self, spec: FieldSpec, type_name: str, var: str, label: str) -> list[str]:
        """Turn the stripped non-empty text in ``var`` into the typed value, in place.

        The usual conversions are inlined (a call less per value, a fifth of the time of the
        acceptance shape): ``int``, ``float`` after the separators, the boolean table, and
        the date memo's cache, which is called only on a miss.
        """
        convert = scalar_converter(spec, type_name)
        if convert is None:
            return []
        if type_name == "integer":
            expr = [f"{var} = int({var})"]
        elif type_name == "number":
            text = var
            if spec.thousands_separator:
                text = f"{text}.replace({self.src.const(spec.thousands_separator)}, '')"
            if spec.decimal_separator != ".":
                text = f"{text}.replace({self.src.const(spec.decimal_separator)}, '.')"
            expr = [f"{var} = float({text})"]
        elif type_name == "boolean":
            expr = [f"{var} = {self.src.const(boolean_table(spec))}[{var}.lower()]"]
        elif isinstance(convert, Memo):
            memo, cache = self.src.const(convert), self.src.const(convert.cache)
            expr = [f"w = {cache}.get({var})", f"{var} = {memo}({var}) if w is None else w"]
        else:
            expr = [f"{var} = {self.src.const(convert)}({var})"]
        label_c, type_c = self.src.const(label), self.src.const(type_name)
        return [
            "try:",
            *_indent(expr),
            f"except {self._errors}:",
            f"    raise {self._failure}({label_c}, {var}, {type_c}) from None",
        ]

    def value_lines(
        self, spec: FieldSpec, type_name: str, node: str, attribute: str | None, label: str
    ) -> list[str]:
        """Set ``v`` to the node's converted text or attribute, ``None`` if absent or empty."""
        if attribute is None:
            read = [f'v = {node}.text if not len({node}) else "".join({node}.itertext())']
        else:
            read = [f"v = {node}.get({self.src.const(attribute)})"]
        convert = self.convert_lines(spec, type_name, "v", label)
        return [
            *read,
            "if v is not None:",
            "    v = v.strip()",
            "    if not v:",
            "        v = None",
            *(_indent(["else:", *_indent(convert)]) if convert else []),
        ]

    def item_lines(self, spec: FieldSpec, node: str, label: str) -> list[str]:
        """Set ``v`` to one array item or keyed value read on ``node``."""
        if not spec.fields:
            type_name = spec.items if spec.type == "array" else spec.type
            if type_name not in SCALAR_TYPES:
                raise _Unsupported
            return self.value_lines(spec, type_name, node, self.path(spec).attribute, label)
        if self.path(spec).attribute is not None:
            raise _Unsupported
        lines: list[str] = []
        parts: list[str] = []
        for index, inner in enumerate(spec.fields):
            inner_path = self.path(inner)
            if (
                inner_path.steps
                or inner.fields
                or inner.key is not None
                or inner.type not in SCALAR_TYPES
            ):
                raise _Unsupported
            lines += self.value_lines(
                inner, inner.type, node, inner_path.attribute, f"{label}.{inner.name}"
            )
            lines.append(f"i{index} = v")
            parts.append(f"{self.src.const(inner.name)}: i{index}")
        return [*lines, f"v = {{{', '.join(parts)}}}"]

    def child_lines(self, spec: FieldSpec, path: Path, var: str) -> list[str]:
        """The work for one field on a child whose tag is the path's first step."""
        rest = path.steps[1:]
        name = spec.name
        if spec.key is not None:
            return self.keyed_lines(spec, path, var)
        if spec.type == "array":
            if not rest:
                return [*self.item_lines(spec, "child", name), f"if v is not None: {var}.append(v)"]
            if len(rest) != 1 or not is_plain(rest[0]):
                raise _Unsupported
            return [
                "for node in child:",
                f"    if node.tag == {self.src.const(rest[0])}:",
                *_indent(self.item_lines(spec, "node", name), 2),
                f"        if v is not None: {var}.append(v)",
            ]
        if rest or spec.fields or spec.type not in SCALAR_TYPES:
            raise _Unsupported
        if path.attribute is None:
            return [
                f"if {var} is None:",
                '    v = child.text if not len(child) else "".join(child.itertext())',
                "    if v is not None:",
                "        v = v.strip()",
                "        if v:",
                *_indent(self.convert_lines(spec, spec.type, "v", name), 3),
                f"            {var} = v",
            ]
        return [
            f"if {var} is None:",
            *_indent(self.value_lines(spec, spec.type, "child", path.attribute, name)),
            f"    {var} = v",
        ]

    def keyed_lines(self, spec: FieldSpec, path: Path, var: str) -> list[str]:
        key_spec = spec.key or ""
        key_path = parse_path(key_spec, self._namespaces, f"{spec.setting}.key")
        if path.steps[1:] or key_path.steps or key_path.attribute is None:
            raise _Unsupported
        key_c = self.src.const(key_spec)
        wanted = self.src.const(f"an object keyed by {key_spec}")
        return [
            f"key = child.get({self.src.const(key_path.attribute)})",
            "if key is not None:",
            "    key = key.strip()",
            "if not key:",
            f"    raise {self._failure}({self.src.const(spec.name)}, {key_c}, {wanted})",
            f"if {var} is None:",
            f"    {var} = {{}}",
            *self.item_lines(spec, "child", spec.name),
            f"{var}[key] = v",
        ]

    def record_function(self, specs: tuple[FieldSpec, ...]) -> list[str]:
        branches: dict[str, list[str]] = {}
        after: list[str] = []
        always_list: list[str] = []
        for index, spec in enumerate(specs):
            var = f"f{index}"
            path = self.path(spec)
            if path.steps and is_plain(path.steps[0]):
                lines = self.child_lines(spec, path, var)
                if spec.type == "array" and spec.key is None:
                    # A matched container means at least []; so does a one-step array
                    # without matches (``always_list``), as in the general compiler.
                    lines = [f"if {var} is None:", f"    {var} = []", *lines]
                    if len(path.steps) == 1:
                        always_list.append(var)
                branches.setdefault(path.steps[0], []).extend(lines)
            elif not path.steps and spec.key is None and spec.type in SCALAR_TYPES:
                if spec.fields:
                    raise _Unsupported
                after += self.value_lines(spec, spec.type, "elem", path.attribute, spec.name)
                after.append(f"{var} = v")
            else:
                raise _Unsupported
        variables = [f"f{index}" for index in range(len(specs))]
        body = [f"{' = '.join(variables)} = None"] if variables else []
        if branches:
            body += ["for child in elem:", "    tag = child.tag"]
            keyword = "if"
            for tag, lines in branches.items():
                body += [f"    {keyword} tag == {self.src.const(tag)}:", *_indent(lines, 2)]
                keyword = "elif"
        body += after
        body += [f"if {var} is None: {var} = []" for var in always_list]
        items = ", ".join(
            f"{self.src.const(spec.name)}: f{index}" for index, spec in enumerate(specs)
        )
        body.append(f"return {{{items}}}")
        return ["def extract(elem):", *_indent(body)]


def compile_record(
    specs: tuple[FieldSpec, ...], namespaces: Mapping[str, str]
) -> RecordExtractor | None:
    """One function element -> record for these fields, or ``None`` if a shape is unusual."""
    generator = _Generator(namespaces)
    try:
        lines = generator.record_function(specs)
    except _Unsupported:
        return None
    # Constants become closure cells of a factory: faster to read than globals.
    names = list(generator.src.constants)
    source = "\n".join([f"def factory({', '.join(names)}):", *_indent(lines), "    return extract"])
    namespace: dict[str, Any] = {}
    exec(compile(source, "<tap-erp-xml fields>", "exec"), namespace)  # noqa: S102
    extract: RecordExtractor = namespace["factory"](*generator.src.constants.values())
    return extract
