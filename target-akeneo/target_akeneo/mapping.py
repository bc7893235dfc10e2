"""The mapping language: parse it into typed objects, check it against the PIM, compile it.

A stream mapping names the identifier field, optional family/categories/enabled
sources and, per attribute, where its value comes from. Compiling turns it into
one function `record -> (identifier, payload)` so nothing is interpreted per record.
"""

from __future__ import annotations

import dataclasses
import difflib
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from target_akeneo import values as shape
from target_akeneo.category_paths import PATH_KEYS, CategoryPath, parse_category_path
from target_akeneo.errors import MappingError, ValueShapeError
from target_akeneo.structure import SELECT_TYPES, Attribute, PimStructure

SOURCE_KEYS = frozenset({"field", "value", "template", "map", "default"})
CURRENCY_KEYS = frozenset({"field", "value", "map", "default"})
VALUE_KEYS = SOURCE_KEYS | {"locales", "locale", "scope", "unit", "amount", "currency"}
# `associations` and `quantified_associations` are parsed by `associations.py`.
STREAM_KEYS = frozenset(
    {"identifier", "family", "categories", "enabled", "values", "model", "parent", "create"}
    | {"associations", "quantified_associations"}
)
# A stream of product models: `{product_models: {code, family_variant, parent, values}}`.
MODEL_STREAM_KEYS = frozenset(
    {"code", "family_variant", "parent", "categories", "values", "associations"}
    | {"quantified_associations"}  # read by associations.py
)
MODEL_KEYS = frozenset({"code", "family_variant", "sub_model_code"})
_MISSING = object()

Values = dict[str, list[dict[str, Any]]]
Emitter = Callable[[Mapping[str, Any], Values], None]


def text_form(value: Any) -> Any:
    """The text a scalar compares as in `map` tables: YAML's `276` and `true` keys match the
    record values `"276"`/`276` and `"true"`/`True` alike. Other values compare as they are."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def parse_path(field: str) -> tuple[str, ...]:
    """`description.en` names the key `en` of the record's object field `description`."""
    return tuple(field.split("."))


def read_path(record: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = record
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def template_fields(template: str) -> tuple[str, ...]:
    """The record fields (dotted paths) a template such as `{style_no}_{color}` names."""
    return tuple(name for _, name, _, _ in string.Formatter().parse(template) if name)


def fill_template(template: str, record: Mapping[str, Any]) -> str | None:
    """The template with each `{field}` replaced by the record's value; None when one is
    empty, so a code is never built from a missing part."""
    parts: list[str] = []
    for literal, name, _, _ in string.Formatter().parse(template):
        parts.append(literal)
        if name:
            value = read_path(record, parse_path(name))
            if value is None or str(value) == "":
                return None
            parts.append(str(value))
    return "".join(parts)


@dataclass(frozen=True)
class Source:
    """A record field (a dotted path into nested objects) or a constant, optionally looked up
    in a table whose keys compare by their text form."""

    field: str | None = None
    constant: Any = None
    table: Mapping[Any, Any] | None = None
    default: Any = _MISSING
    path: tuple[str, ...] = ()
    template: str | None = None

    def __post_init__(self) -> None:
        if self.field is not None and not self.path:
            object.__setattr__(self, "path", parse_path(self.field))
        if self.table is not None:
            object.__setattr__(self, "table", {text_form(k): v for k, v in self.table.items()})

    def read(self, record: Mapping[str, Any]) -> Any:
        if self.template is not None:
            value = fill_template(self.template, record)
        elif self.field is None:
            value = self.constant
        elif len(self.path) == 1:
            value = record.get(self.field)
        else:
            value = read_path(record, self.path)
        if value is None:
            return None
        return self.lookup(value)

    def lookup(self, value: Any) -> Any:
        """Map a value (each item of a list); one missing from the table passes unchanged
        unless a default is set."""
        table = self.table
        if table is None:
            return value
        if isinstance(value, list | tuple):
            return [self.lookup(item) for item in value]
        try:
            return table[text_form(value)]
        except (KeyError, TypeError):
            return value if self.default is _MISSING else self.default

    def outputs(self) -> list[Any]:
        """Every value this source can produce that is known without a record."""
        found: list[Any] = []
        if self.field is None and self.template is None and self.constant is not None:
            constant = self.lookup(self.constant)
            found.extend(constant if isinstance(constant, list | tuple) else [constant])
        if self.table is not None:
            found.extend(self.table.values())
        if self.default is not _MISSING and self.default is not None:
            found.append(self.default)
        return found

    def describe(self) -> str:
        if self.template is not None:
            return f"template '{self.template}'"
        return f"field '{self.field}'" if self.field else "constant"


@dataclass(frozen=True)
class ValueSpec:
    """Where one attribute's value(s) come from."""

    attribute: str
    source: Source
    locales: Mapping[str, str] | None = None
    locale: str | None = None
    scope: str | None = None
    unit: Source | None = None
    amount_key: str = "amount"
    currency_key: str = "currency"
    # `currency: {value: EUR}` or `{field: price.currency}`: the currency of a plain amount.
    currency: Source | None = None
    price_keys_set: bool = False


@dataclass(frozen=True)
class ModelSpec:
    """A stream's `model` block: rows with the same `code` are variants of one root model."""

    place: str
    code: Source
    family_variant: Source
    sub_model_code: Source | None


@dataclass(frozen=True)
class StreamMapping:
    """One stream's mapping, parsed."""

    stream: str
    place: str
    identifier: Source
    family: Source | None
    categories: Source | None
    enabled: Source | None
    values: tuple[ValueSpec, ...]
    model: ModelSpec | None = None
    parent: Source | None = None  # products: the code of their model
    kind: str = "products"  # or "product_models": the identifier is then the model's code
    family_variant: Source | None = None
    # Set when `categories` holds paths (`path_separator`, `root`): see categories.py.
    category_path: CategoryPath | None = None
    # `create: false` (a prices or stock stream): products the PIM lacks are skipped.
    create: bool = True


# -- parsing ------------------------------------------------------------------------


def unknown_keys(place: str, raw: Mapping[str, Any], allowed: frozenset[str]) -> list[str]:
    """One problem naming the keys of `raw` that are not `allowed`, or none."""
    unknown = sorted(set(raw) - allowed)
    if not unknown:
        return []
    return [f"{place}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})"]


def _parse_source(raw: Any, place: str, problems: list[str], allowed: frozenset[str]) -> Source:
    if isinstance(raw, str):
        return Source(field=raw)
    if not isinstance(raw, Mapping):
        problems.append(f"{place}: expected a field name or an object, got {raw!r}")
        return Source()
    problems.extend(unknown_keys(place, raw, allowed))
    has_field, has_value, has_template = "field" in raw, "value" in raw, "template" in raw
    if has_field + has_value + has_template != 1:
        problems.append(f"{place}: set exactly one of 'field', 'value' or 'template'")
    template = raw.get("template")
    if has_template and not isinstance(template, str):
        problems.append(f"{place}.template: expected a text with {{field}} parts, got {template!r}")
        template = None
    field = raw.get("field")
    if has_field and not isinstance(field, str):
        problems.append(f"{place}.field: expected a field name, got {field!r}")
        field = None
    table = raw.get("map")
    if table is not None and not isinstance(table, Mapping):
        problems.append(f"{place}.map: expected an object of source value to PIM value")
        table = None
    return Source(
        field=field if has_field else None,
        constant=raw.get("value"),
        table=table,
        default=raw.get("default", _MISSING),
        template=template if has_template else None,
    )


def _parse_value(attribute: str, raw: Any, place: str, problems: list[str]) -> ValueSpec:
    source = _parse_source(raw, place, problems, VALUE_KEYS)
    if not isinstance(raw, Mapping):
        return ValueSpec(attribute, source)
    locales = raw.get("locales")
    if locales is not None and (
        not isinstance(locales, Mapping) or not all(isinstance(v, str) for v in locales.values())
    ):
        problems.append(f"{place}.locales: expected an object of source key to Akeneo locale")
        locales = None
    if locales is not None and "locale" in raw:
        problems.append(f"{place}: set 'locales' or 'locale', not both")
    unit: Source | None = None
    if "unit" in raw:
        raw_unit = raw["unit"]
        unit = (
            Source(constant=raw_unit)
            if isinstance(raw_unit, str)
            else _parse_source(raw_unit, f"{place}.unit", problems, SOURCE_KEYS)
        )
    # `currency: {value: EUR}` prices a plain amount in one fixed currency, `{field: ...}`
    # in the currency a record field names; a plain string is the key of price objects.
    raw_currency = raw.get("currency")
    currency = None
    if isinstance(raw_currency, Mapping):
        currency = _parse_source(raw_currency, f"{place}.currency", problems, CURRENCY_KEYS)
    problems.extend(
        f"{place}.{key}: expected a string, got {raw[key]!r}"
        for key in ("locale", "scope", "amount", "currency")
        if key in raw and not isinstance(raw[key], str) and not (key == "currency" and currency)
    )
    return ValueSpec(
        attribute=attribute,
        source=source,
        locales=locales,
        locale=raw.get("locale"),
        scope=raw.get("scope"),
        unit=unit,
        amount_key=str(raw.get("amount", "amount")),
        currency_key=raw_currency if isinstance(raw_currency, str) else "currency",
        currency=currency,
        price_keys_set="amount" in raw or "currency" in raw,
    )


def _parse_model_stream(
    stream: str, raw: Mapping[str, Any], origin: str, problems: list[str]
) -> StreamMapping | None:
    place = f"{origin}: {stream}.product_models"
    inner = raw["product_models"]
    if set(raw) != {"product_models"}:
        problems.append(f"{origin}: {stream}: a product_models stream has only 'product_models'")
    if not isinstance(inner, Mapping):
        problems.append(f"{place}: expected an object with code, family_variant, parent, values")
        return None
    problems.extend(unknown_keys(place, inner, MODEL_STREAM_KEYS))
    if "code" not in inner:
        problems.append(f"{place}.code: required (the record field holding the model code)")
    as_stream = {key: inner[key] for key in ("parent", "categories", "values") if key in inner}
    parsed = _parse_stream(
        stream, {"identifier": inner.get("code", ""), **as_stream}, origin, problems
    )
    if parsed is None:
        return None
    family_variant = None
    if inner.get("family_variant") is not None:
        family_variant = _parse_source(
            inner["family_variant"], f"{place}.family_variant", problems, SOURCE_KEYS
        )
    return dataclasses.replace(
        parsed, place=place, kind="product_models", family_variant=family_variant
    )


def _parse_stream(stream: str, raw: Any, origin: str, problems: list[str]) -> StreamMapping | None:
    place = f"{origin}: {stream}"
    if isinstance(raw, Mapping) and "product_models" in raw:
        return _parse_model_stream(stream, raw, origin, problems)
    if not isinstance(raw, Mapping):
        problems.append(f"{place}: expected an object with identifier and values")
        return None
    problems.extend(unknown_keys(place, raw, STREAM_KEYS))
    if "identifier" not in raw:
        problems.append(
            f"{place}.identifier: required (the record field holding the product identifier)"
        )
    identifier = _parse_source(
        raw.get("identifier", ""), f"{place}.identifier", problems, SOURCE_KEYS
    )

    category_path = parse_category_path(raw.get("categories"), f"{place}.categories", problems)

    def optional(key: str) -> Source | None:
        if raw.get(key) is None:
            return None
        spec = raw[key]
        if key == "categories" and isinstance(spec, Mapping):
            spec = {name: value for name, value in spec.items() if name not in PATH_KEYS}
        return _parse_source(spec, f"{place}.{key}", problems, SOURCE_KEYS)

    create = raw.get("create", True)
    if not isinstance(create, bool):
        problems.append(f"{place}.create: expected true or false, got {create!r}")
        create = True
    if not create and raw.get("model") is not None:
        problems.append(
            f"{place}.create: 'create: false' cannot be combined with 'model' "
            "(the stream would create the product models)"
        )
    raw_values = raw.get("values") or {}
    specs: list[ValueSpec] = []
    if not isinstance(raw_values, Mapping):
        problems.append(f"{place}.values: expected an object of attribute code to source")
    else:
        specs = [
            _parse_value(str(code), spec, f"{place}.values.{code}", problems)
            for code, spec in raw_values.items()
        ]
    return StreamMapping(
        stream=stream,
        place=place,
        identifier=identifier,
        family=optional("family"),
        categories=optional("categories"),
        enabled=optional("enabled"),
        values=tuple(specs),
        model=_parse_model(raw.get("model"), f"{place}.model", problems),
        parent=optional("parent"),
        category_path=category_path,
        create=create,
    )


def _parse_model(raw: Any, place: str, problems: list[str]) -> ModelSpec | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        problems.append(f"{place}: expected an object with code and family_variant")
        return None
    problems.extend(unknown_keys(place, raw, MODEL_KEYS))
    problems.extend(
        f"{place}.{key}: required" for key in ("code", "family_variant") if key not in raw
    )
    sub = raw.get("sub_model_code")
    return ModelSpec(
        place=place,
        code=_parse_source(raw.get("code", ""), f"{place}.code", problems, SOURCE_KEYS),
        family_variant=_parse_source(
            raw.get("family_variant", ""), f"{place}.family_variant", problems, SOURCE_KEYS
        ),
        sub_model_code=None
        if sub is None
        else _parse_source(sub, f"{place}.sub_model_code", problems, SOURCE_KEYS),
    )


def parse_mapping(raw: Mapping[str, Any], origin: str) -> dict[str, StreamMapping]:
    """Parse the whole mapping; raise `MappingError` listing every syntax problem."""
    problems: list[str] = []
    if not raw:
        problems.append(f"{origin}: the mapping has no streams")
    streams = {}
    for stream, spec in raw.items():
        parsed = _parse_stream(str(stream), spec, origin, problems)
        if parsed is not None:
            streams[str(stream)] = parsed
    if problems:
        raise MappingError(*problems)
    return streams


def attribute_codes(streams: Mapping[str, StreamMapping]) -> set[str]:
    return {spec.attribute for mapping in streams.values() for spec in mapping.values}


def family_codes(streams: Mapping[str, StreamMapping]) -> set[str]:
    codes: set[str] = set()
    for mapping in streams.values():
        if mapping.family is not None:
            codes.update(str(code) for code in mapping.family.outputs())
    return codes


# -- validation against the stream's schema -----------------------------------------


def _types(schema: Mapping[str, Any]) -> set[str]:
    types = schema.get("type", [])
    found = {types} if isinstance(types, str) else set(types)
    for alternative in (*schema.get("anyOf", ()), *schema.get("oneOf", ())):
        if isinstance(alternative, Mapping):
            found |= _types(alternative)
    return found - {"null"}


def _children(schema: Mapping[str, Any]) -> tuple[Mapping[str, Any], bool]:
    """The named properties an object schema declares, and whether other keys may appear."""
    if "array" in _types(schema) and isinstance(schema.get("items"), Mapping):
        schema = schema["items"]
    properties = schema.get("properties") or {}
    extra = schema.get("additionalProperties")
    open_keys = extra is not False and (not properties or isinstance(extra, Mapping))
    return properties, bool(open_keys or not _types(schema))


def _resolve(schema: Mapping[str, Any], path: tuple[str, ...]) -> tuple[Any, str | None]:
    """Walk a dotted path through a record schema: (the field's schema or None, problem)."""
    node: Mapping[str, Any] = schema
    for depth, key in enumerate(path):
        properties, open_keys = _children(node)
        if key in properties:
            node = properties[key]
            continue
        if open_keys:
            return None, None  # keys of a free-form object (e.g. languages) are the data's
        where = ".".join(path[:depth]) or "the record"
        # difflib rates `EN` against `en` as 0: a key differing only in case is the match.
        close = [name for name in properties if name.casefold() == key.casefold()][:1]
        close = close or difflib.get_close_matches(key, list(properties), n=1)
        hint = f" (did you mean '{'.'.join((*path[:depth], close[0]))}'?)" if close else ""
        named = f"field '{'.'.join(path)}'"
        if depth:
            return None, f"{named}: '{key}' is not a key of '{where}' in the stream's schema{hint}"
        return None, f"{named} is not in the stream's schema{hint}"
    return node, None


def _never_matching_keys(source: Source, field_schema: Any) -> list[str]:
    """Table keys that no value of the field, as its schema types it, can ever equal."""
    if source.table is None or not isinstance(field_schema, Mapping):
        return []
    if "array" in _types(field_schema) and isinstance(field_schema.get("items"), Mapping):
        field_schema = field_schema["items"]
    types = _types(field_schema)
    enum = field_schema.get("enum")

    def can_match(key: Any) -> bool:
        if enum is not None:
            return key in {text_form(v) for v in enum if v is not None}
        if not isinstance(key, str) or not types or "string" in types:
            return True
        if "boolean" in types and key in {"true", "false"}:
            return True
        try:
            number = float(key)
        except ValueError:
            return False
        return "number" in types or ("integer" in types and number.is_integer())

    return [str(key) for key in source.table if not can_match(key)]


def _sources(mapping: StreamMapping) -> list[tuple[str, Source]]:
    found = [(f"{mapping.place}.identifier", mapping.identifier)]
    for key in ("family", "categories", "enabled", "parent", "family_variant"):
        source = getattr(mapping, key)
        if source is not None:
            found.append((f"{mapping.place}.{key}", source))
    for spec in mapping.values:
        place = f"{mapping.place}.values.{spec.attribute}"
        found.append((place, spec.source))
        if spec.unit is not None:
            found.append((f"{place}.unit", spec.unit))
        if spec.currency is not None:
            found.append((f"{place}.currency", spec.currency))
    model = mapping.model
    if model is not None:
        found += [(f"{model.place}.code", model.code)]
        found += [(f"{model.place}.family_variant", model.family_variant)]
        if model.sub_model_code is not None:
            found.append((f"{model.place}.sub_model_code", model.sub_model_code))
    return found


def check_against_schema(mapping: StreamMapping, schema: Mapping[str, Any]) -> list[str]:
    """Problems of a stream mapping against the stream's SCHEMA message, one line each:
    source fields the records cannot have, and `map` keys no value can match."""
    problems: list[str] = []
    for place, source in _sources(mapping):
        if source.template is not None:
            for name in template_fields(source.template):
                _, problem = _resolve(schema, parse_path(name))
                if problem is not None:
                    problems.append(f"{place}.template: {problem}")
            continue
        if source.field is None:
            continue
        field_schema, problem = _resolve(schema, source.path)
        if problem is not None:
            problems.append(f"{place}: {problem}")
            continue
        problems.extend(
            f"{place}.map: key '{key}' can never match: field '{source.field}' is "
            f"{'/'.join(sorted(_types(field_schema))) or 'untyped'}"
            + (f" with values {field_schema['enum']}" if "enum" in field_schema else "")
            for key in _never_matching_keys(source, field_schema)
        )
    for spec in mapping.values:
        if spec.source.field is None or not spec.price_keys_set:
            continue
        field_schema, _ = _resolve(schema, spec.source.path)
        if not isinstance(field_schema, Mapping):
            continue
        properties, open_keys = _children(field_schema)
        place = f"{mapping.place}.values.{spec.attribute}"
        problems.extend(
            f"{place}.{role}: '{key}' is not a key of field '{spec.source.field}' "
            "in the stream's schema"
            for role, key in (("amount", spec.amount_key), ("currency", spec.currency_key))
            if not open_keys
            and key not in properties
            and not (role == "currency" and spec.currency is not None)
        )
    return problems


def category_codes(mapping: StreamMapping) -> set[str]:
    """The category codes a stream mapping names without reading a record."""
    if mapping.categories is None or mapping.category_path is not None:
        return set()  # paths become codes in categories.py
    return {str(code) for code in mapping.categories.outputs()}


# -- validation against the PIM -----------------------------------------------------


def _check_locale(
    code: str, attribute: Attribute, spec: ValueSpec, pim: PimStructure, place: str
) -> list[str]:
    if code not in pim.locales:
        return [f"{place}: locale '{code}' does not exist in the PIM"]
    if not pim.locales[code]:
        return [f"{place}: locale '{code}' is not activated in the PIM"]
    if attribute.available_locales and code not in attribute.available_locales:
        allowed = ", ".join(attribute.available_locales)
        return [
            f"{place}: attribute '{attribute.code}' only takes the locales {allowed}, not '{code}'"
        ]
    if spec.scope and spec.scope in pim.channels and code not in pim.channels[spec.scope]:
        return [f"{place}: locale '{code}' is not a locale of channel '{spec.scope}'"]
    return []


def _check_value(spec: ValueSpec, pim: PimStructure, place: str, create_options: bool) -> list[str]:
    attribute = pim.attributes.get(spec.attribute)
    if attribute is None:
        close = difflib.get_close_matches(spec.attribute, list(pim.known_attribute_codes), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return [f"{place}: attribute '{spec.attribute}' does not exist in the PIM{hint}"]
    problems: list[str] = []
    locales = (
        list(spec.locales.values()) if spec.locales else ([spec.locale] if spec.locale else [])
    )
    if attribute.localizable and not locales:
        problems.append(
            f"{place}: attribute '{attribute.code}' is localizable: set 'locales' or 'locale'"
        )
    if not attribute.localizable and locales:
        problems.append(
            f"{place}: attribute '{attribute.code}' is not localizable: remove 'locales'/'locale'"
        )
    if attribute.scopable and not spec.scope:
        problems.append(
            f"{place}: attribute '{attribute.code}' is scopable: set 'scope' to a channel"
        )
    if not attribute.scopable and spec.scope:
        problems.append(f"{place}: attribute '{attribute.code}' is not scopable: remove 'scope'")
    if spec.scope and spec.scope not in pim.channels:
        close = difflib.get_close_matches(spec.scope, list(pim.channels), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        problems.append(f"{place}: channel '{spec.scope}' does not exist in the PIM{hint}")
    if attribute.localizable:
        for code in locales:
            problems.extend(_check_locale(code, attribute, spec, pim, place))
    is_metric = attribute.type == "pim_catalog_metric"
    if is_metric and spec.unit is None:
        problems.append(f"{place}: attribute '{attribute.code}' is a metric: set 'unit'")
    if not is_metric and spec.unit is not None:
        problems.append(f"{place}: attribute '{attribute.code}' is not a metric: remove 'unit'")
    if is_metric and spec.unit is not None and pim.metric_units is not None:
        family = attribute.metric_family or ""
        units = pim.metric_units.get(family, frozenset())
        problems.extend(
            f"{place}.unit: unit '{unit}' is not in the measurement family '{family}'"
            for unit in spec.unit.outputs()
            if unit not in units
        )
    if spec.price_keys_set and attribute.type != "pim_catalog_price_collection":
        problems.append(
            f"{place}: attribute '{attribute.code}' is not a price: remove 'amount'/'currency'"
        )
    if spec.currency is not None:
        problems.extend(
            f"{place}.currency: currency '{code}' is not an activated currency"
            for code in spec.currency.outputs()
            if not pim.currencies.get(str(code))
        )
    if attribute.type in SELECT_TYPES and not create_options:
        problems.extend(
            f"{place}.map: option '{code}' does not exist for attribute '{attribute.code}'"
            for code in spec.source.outputs()
            if isinstance(code, str) and not pim.has_option(attribute.code, code)
        )
    return problems


def validate_mapping(
    streams: Mapping[str, StreamMapping], pim: PimStructure, *, create_options: bool = False
) -> None:
    """Raise `MappingError` with one message per problem found against the PIM."""
    problems: list[str] = []
    for mapping in streams.values():
        if mapping.family is not None:
            problems.extend(
                f"{mapping.place}.family: family '{code}' does not exist in the PIM"
                for code in mapping.family.outputs()
                if str(code) not in pim.families
            )
        for spec in mapping.values:
            place = f"{mapping.place}.values.{spec.attribute}"
            problems.extend(_check_value(spec, pim, place, create_options))
    if problems:
        raise MappingError(*problems)


# -- compilation --------------------------------------------------------------------


def _entries(spec: ValueSpec) -> Callable[[Mapping[str, Any]], list[tuple[str | None, Any]]]:
    """Return a reader giving (locale, raw value) pairs for one record."""
    source = spec.source
    if spec.locales:
        pairs = tuple(spec.locales.items())

        def localized(record: Mapping[str, Any]) -> list[tuple[str | None, Any]]:
            raw = read_path(record, source.path) if source.field else source.constant
            if raw is None:
                return []
            if not isinstance(raw, Mapping):
                raise ValueShapeError(
                    f"expected an object of locale keys, got {type(raw).__name__}"
                )
            found: list[tuple[str | None, Any]] = []
            for key, locale in pairs:
                value = raw.get(key)
                if value is not None:
                    found.append((locale, source.lookup(value)))
            return found

        return localized
    locale = spec.locale

    def single(record: Mapping[str, Any]) -> list[tuple[str | None, Any]]:
        value = source.read(record)
        return [] if value is None else [(locale, value)]

    return single


def _unit_check(attribute: Attribute, source: Source, pim: PimStructure) -> Callable[[str], None]:
    """Refuse a record's unit outside the attribute's measurement family (when the PIM
    told its units): the product is rejected naming the unit and where it came from."""
    family = attribute.metric_family or ""
    units = None if pim.metric_units is None else pim.metric_units.get(family, frozenset())

    def check(unit: str) -> None:
        if units is not None and unit not in units:
            raise ValueShapeError(
                f"unit '{unit}' ({source.describe()}) is not in the measurement family '{family}'"
            )

    return check


def _currency_check(source: Source | None, pim: PimStructure) -> Callable[[str], None]:
    """Refuse a record's currency that is not activated in the PIM."""
    where = f" ({source.describe()})" if source is not None else ""

    def check(currency: str) -> None:
        if not pim.currencies.get(currency):
            raise ValueShapeError(f"currency '{currency}'{where} is not an activated currency")

    return check


def _data_shaper(
    spec: ValueSpec, attribute: Attribute, pim: PimStructure
) -> Callable[[Any, Mapping[str, Any]], Any]:
    if attribute.type == "pim_catalog_metric" and spec.unit is not None:
        amount_of = shape.metric_amount(attribute)
        unit_source = spec.unit
        check_unit = _unit_check(attribute, unit_source, pim)

        def metric(value: Any, record: Mapping[str, Any]) -> Any:
            unit = unit_source.read(record)
            if unit is None:
                raise ValueShapeError(f"no unit ({unit_source.describe()} is empty)")
            check_unit(str(unit))
            return {"amount": amount_of(value), "unit": str(unit)}

        return metric
    if attribute.type == "pim_catalog_price_collection":
        amount_of = shape.price_amount(attribute)
        amount_key, currency_key = spec.amount_key, spec.currency_key
        currency_source = spec.currency
        check_currency = _currency_check(currency_source, pim)
        check_item_currency = _currency_check(None, pim)

        def prices(value: Any, record: Mapping[str, Any]) -> Any:
            fixed_currency = None
            if currency_source is not None:
                read = currency_source.read(record)
                fixed_currency = None if read is None else str(read)
            if not isinstance(value, Mapping | list | tuple):
                if fixed_currency is None:
                    raise ValueShapeError(
                        "no currency for the amount"
                        + (f" ({currency_source.describe()} is empty)" if currency_source else "")
                    )
                check_currency(fixed_currency)
                return [{"amount": amount_of(value), "currency": fixed_currency}]
            items = [value] if isinstance(value, Mapping) else value
            result = []
            for item in items:
                if not isinstance(item, Mapping):
                    raise ValueShapeError(f"expected a price object, got {type(item).__name__}")
                amount = item.get(amount_key)
                currency = item.get(currency_key, fixed_currency)
                if amount is None or currency is None:
                    continue
                check_item_currency(str(currency))
                result.append({"amount": amount_of(amount), "currency": str(currency)})
            return result

        return prices
    scalar = shape.scalar_shaper(attribute)
    return lambda value, _record: scalar(value)


def _emitter(spec: ValueSpec, attribute: Attribute, pim: PimStructure) -> Emitter:
    read = _entries(spec)
    data_of = _data_shaper(spec, attribute, pim)
    code, scope = spec.attribute, spec.scope
    where = f"values.{code} ({spec.source.describe()})"

    def emit(record: Mapping[str, Any], values: Values) -> None:
        try:
            found = read(record)
            if found:
                values[code] = [
                    {"locale": locale, "scope": scope, "data": data_of(value, record)}
                    for locale, value in found
                ]
        except ValueShapeError as exc:
            raise ValueShapeError(f"{where}: {exc}") from None

    return emit


@dataclass(frozen=True)
class CompiledMapping:
    """`build(record)` returns (identifier, payload) or raises `ValueShapeError`."""

    stream: str
    build: Callable[[Mapping[str, Any]], tuple[str, dict[str, Any]]]
    select_attributes: tuple[tuple[str, bool], ...]
    mapping: StreamMapping


def _optional_reader(source: Source | None, name: str) -> Callable[[Mapping[str, Any]], Any]:
    if source is None:
        return lambda _record: None
    if name == "enabled":
        return lambda record: None if (v := source.read(record)) is None else shape.boolean(v)
    if name == "categories":

        def categories(record: Mapping[str, Any]) -> Any:
            value = source.read(record)
            if value is None:
                return None
            items = value if isinstance(value, list | tuple) else [value]
            return [str(item) for item in items]

        return categories
    return lambda record: None if (v := source.read(record)) is None else str(v)


def compile_mapping(mapping: StreamMapping, pim: PimStructure) -> CompiledMapping:
    """Compile a validated stream mapping into one record -> payload function."""
    emitters = tuple(_emitter(spec, pim.attributes[spec.attribute], pim) for spec in mapping.values)
    identifier_source = mapping.identifier
    readers = tuple(
        (name, _optional_reader(source, name))
        for name, source in (
            ("family", mapping.family),
            ("enabled", mapping.enabled),
            ("categories", mapping.categories),
            ("parent", mapping.parent),
            ("family_variant", mapping.family_variant),
        )
        if source is not None
    )

    def build(record: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        raw_identifier = identifier_source.read(record)
        if raw_identifier is None or str(raw_identifier).strip() == "":
            raise ValueShapeError(f"identifier ({identifier_source.describe()}) is empty")
        identifier = str(raw_identifier)
        payload: dict[str, Any] = {"identifier": identifier}
        for name, reader in readers:
            try:
                value = reader(record)
            except ValueShapeError as exc:
                raise ValueShapeError(f"{name}: {exc}") from None
            if value is not None:
                payload[name] = value
        product_values: Values = {}
        for emit in emitters:
            emit(record, product_values)
        if product_values:
            payload["values"] = product_values
        return identifier, payload

    selects = tuple(
        (spec.attribute, pim.attributes[spec.attribute].type == "pim_catalog_multiselect")
        for spec in mapping.values
        if pim.attributes[spec.attribute].type in SELECT_TYPES
    )
    return CompiledMapping(
        stream=mapping.stream, build=build, select_attributes=selects, mapping=mapping
    )
