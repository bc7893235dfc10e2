"""Family variants: their standard format, Akeneo's structure rules, and the attribute set of
each level (root model = level 0, sub model = level 1, variant products = the last level)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from akeneo_sandbox.errors import format_error

if TYPE_CHECKING:
    from akeneo_sandbox.catalog import Catalog, Doc

AXIS_TYPES = frozenset(
    {
        "pim_catalog_metric",
        "pim_catalog_simpleselect",
        "pim_catalog_boolean",
        "pim_reference_data_simpleselect",
        "akeneo_reference_entity",
    }
)
MAX_AXES = 5
MAX_LEVELS = 2
CODE = re.compile(r"^[a-zA-Z0-9_]+$")
SETS = "variant_attribute_sets"
NOT_OBJECTS = f'Property "{SETS}" expects an array of objects as data.'

Violation = dict[str, Any]


def _sets(variant: Doc) -> list[Doc]:
    sets = variant.get(SETS)
    if not isinstance(sets, list):
        return []
    return [s for s in sets if isinstance(s, dict)]


def level_count(variant: Doc) -> int:
    return len(variant[SETS])


def axes(variant: Doc, level: int) -> list[str]:
    """Axis attributes of a level (none at level 0)."""
    for attribute_set in variant[SETS]:
        if attribute_set["level"] == level:
            return list(attribute_set["axes"])
    return []


def attribute_set(variant: Doc, level: int, catalog: Catalog) -> set[str]:
    """Attributes an entity of this level holds: the family's common ones at level 0."""
    if level == 0:
        family = catalog.families.get(str(variant["family"]), {"attributes": []})
        below = {code for s in variant[SETS] for code in [*s["attributes"], *s["axes"]]}
        return {code for code in family["attributes"] if code not in below}
    for attribute_set_ in variant[SETS]:
        if attribute_set_["level"] == level:
            return {*attribute_set_["attributes"], *attribute_set_["axes"]}
    return set()


def _level(attribute_set_: Doc) -> int:
    level = attribute_set_.get("level")
    return level if isinstance(level, int) else 0


def normalize_variant(doc: Doc, catalog: Catalog) -> Doc:
    """Sets sorted by level, axes listed among their level's attributes, and the identifier and
    unique attributes moved to the last level, as Akeneo stores them. A malformed item is left
    as it is, for `variant_violations` to report."""
    sets: list[Doc] = []
    for given in sorted(_sets(doc), key=_level):
        level_axes = given.get("axes", [])
        attributes = given.get("attributes", [])
        if not isinstance(level_axes, list) or not isinstance(attributes, list):
            return doc
        listed = [*attributes, *(a for a in level_axes if a not in attributes)]
        sets.append({"level": given.get("level"), "axes": list(level_axes), "attributes": listed})
    if not sets:
        return doc
    family = catalog.families.get(str(doc.get("family")), {"attributes": []})
    lowest = [
        code
        for code in family["attributes"]
        if code in catalog.attributes
        and (
            catalog.attributes[code]["unique"]
            or catalog.attributes[code]["type"] == "pim_catalog_identifier"
        )
    ]
    for attribute_set_ in sets:
        attribute_set_["attributes"] = [a for a in attribute_set_["attributes"] if a not in lowest]
    sets[-1]["attributes"].extend(lowest)
    return {**doc, SETS: sets}


def variant_violations(doc: Doc, catalog: Catalog) -> list[Violation]:
    """Akeneo's family-variant validation messages, each with its property."""
    found: list[Violation] = []

    def add(message: str, prop: str = SETS) -> None:
        found.append({"property": prop, "message": message})

    family = catalog.families.get(str(doc.get("family")))
    if family is None:
        add(
            'Property "family" expects a valid family code. '
            f'The family does not exist, "{doc.get("family")}" given.',
            "family",
        )
        return found
    sets = doc.get(SETS)
    if not isinstance(sets, list) or len(_sets(doc)) != len(sets):
        add(NOT_OBJECTS)
        return found
    if not sets:
        add("There should be at least one level defined in the family variant")
    levels = [s.get("level") for s in sets]
    if sets and 1 not in levels:
        add('There is no variant attribute set for level "1"')
    if any(not isinstance(level, int) or level > MAX_LEVELS or level < 1 for level in levels):
        add(f'Family variant cannot have more than "{MAX_LEVELS}" level')
    seen: dict[str, int] = {}
    for attribute_set_ in sets:
        level_axes = attribute_set_.get("axes")
        attributes = attribute_set_.get("attributes")
        if not isinstance(level_axes, list) or not isinstance(attributes, list):
            add(NOT_OBJECTS)
            continue
        if not all(isinstance(code, str) for code in [*level_axes, *attributes]):
            # Akeneo's wording for a non-string code here is not in the sources read.
            add(f'Property "{SETS}" expects arrays of attribute codes as "axes" and "attributes".')
            continue
        if not level_axes:
            add(
                "There should be at least one attribute defined as axis for the attribute set "
                f'for level "{attribute_set_.get("level")}"'
            )
        if len(level_axes) > MAX_AXES:
            add(f"A variant attribute set cannot have more than {MAX_AXES} axes")
        for code in level_axes:
            found.extend(_axis_problems(code, catalog))
        for code in attributes:
            if code not in catalog.attributes:
                add(
                    f'Property "{SETS}" expects a valid attribute code. '
                    f'The attribute does not exist, "{code}" given.'
                )
            elif code not in family["attributes"]:
                add(
                    f'"{code}" attribute cannot be added to "{doc["code"]}" family variant, '
                    f'as it is not an attribute of the "{family["code"]}" family'
                )
            seen[code] = seen.get(code, 0) + 1
    repeated = [code for code, count in seen.items() if count > 1]
    if repeated:
        add(
            f'Attributes must be unique, "{", ".join(repeated)}" are used several times in '
            "variant attributes sets"
        )
    if not CODE.match(str(doc.get("code"))):
        add("Family variant code may contain only letters, numbers and underscores", "code")
    return found


def _axis_problems(code: Any, catalog: Catalog) -> list[Violation]:
    attribute = catalog.attributes.get(str(code))
    if attribute is None:
        return []  # reported with the level's attributes, where Akeneo lists the axes too
    problems = []
    if attribute["type"] not in AXIS_TYPES:
        problems.append(
            f'Variant axes "{code}" must be a boolean, a simple select, a simple reference data '
            "or a measurement"
        )
    if attribute["localizable"] or attribute["scopable"] or attribute["available_locales"]:
        problems.append(
            f'Variant axes "{code}" cannot be localizable, not scopable and not locale specific'
        )
    if attribute["unique"] or attribute["type"] == "pim_catalog_identifier":
        problems.append(f'Variant axes "{code}" cannot be unique or an identifier')
    return [{"property": SETS, "message": m} for m in problems]


def merge_sets(
    current: list[Doc], given: list[Doc], anchor: str
) -> tuple[list[Doc], list[Violation]]:
    """A PATCH of the sets of an existing variant, level by level: the number of levels cannot
    change (422 format error) nor the axes of a level (violation); attributes may."""
    if len(given) != len(current):
        raise format_error("The number of variant attribute sets cannot be changed.", anchor)
    merged: list[Doc] = []
    violations: list[Violation] = []
    by_level = {s.get("level"): s for s in given}
    for old in current:
        new = {**old, **by_level.get(old["level"], {})}
        if new["axes"] != old["axes"]:
            message = f'Variant axes cannot be modified for the level "{old["level"]}"'
            violations.append({"property": SETS, "message": message})
        merged.append(new)
    return merged, violations
