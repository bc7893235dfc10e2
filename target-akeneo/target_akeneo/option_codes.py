"""Option codes Akeneo accepts, made from source values for `create_missing_options`.

Akeneo option codes hold only letters, digits and underscores (at most 100 characters
here, so they also fit as category-like codes in exports). A source value that already is
such a code is used as it is; any other becomes its slug (`Movano Premium` ->
`movano_premium`, accents folded), which is stable for the same value. The source text is
the option's label. Two values with the same slug are told apart deterministically: the
slug goes to the value whose label an existing option of that code carries (or, among new
values, to the first in sorted order), the others get the slug plus a short hash of the
value.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

from target_akeneo.structure import PimStructure

MAX_LENGTH = 100
_VALID = re.compile(r"^[A-Za-z0-9_]+$")
_NOT_CODE = re.compile(r"[^a-z0-9]+")


def _hash(value: str) -> str:
    return hashlib.blake2b(value.encode("utf-8"), digest_size=4).hexdigest()


def is_valid_code(value: str) -> bool:
    return len(value) <= MAX_LENGTH and bool(_VALID.match(value))


def slug(value: str) -> str:
    """The code form of a text: accents folded, lower case, other characters as `_`."""
    folded = "".join(
        char for char in unicodedata.normalize("NFKD", value) if not unicodedata.combining(char)
    ).casefold()
    code = _NOT_CODE.sub("_", folded).strip("_")
    if not code:
        return f"option_{_hash(value)}"
    return code if len(code) <= MAX_LENGTH else f"{code[: MAX_LENGTH - 9]}_{_hash(value)}"


def _with_hash(code: str, value: str) -> str:
    return f"{code[: MAX_LENGTH - 9]}_{_hash(value)}"


class OptionCodes:
    """Decides the code of each source value of a select attribute."""

    def __init__(self, structure: PimStructure) -> None:
        self._structure = structure

    def codes_for(self, attribute: str, values: Iterable[str]) -> dict[str, str]:
        """Source value -> option code (existing or to create), deterministic for a set."""
        structure = self._structure
        labels = structure.option_labels.get(attribute, {})
        decided: dict[str, str] = {}
        taken: dict[str, str] = {}  # code -> the value it was given to in this call
        for value in sorted(set(values)):
            if structure.has_option(attribute, value) or is_valid_code(value):
                decided[value] = value
                continue
            code = slug(value)
            owner = taken.get(code)
            exists = structure.has_option(attribute, code)
            known_labels = labels.get(code)
            if owner is not None or (exists and known_labels and value not in known_labels):
                code = _with_hash(code, value)
            taken.setdefault(code, value)
            decided[value] = code
        return decided
