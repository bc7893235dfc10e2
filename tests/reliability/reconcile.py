"""Reconciling generated products with the PIM and the dead-letter file: nothing lost."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tests.reliability.products import SourceProduct, comparable


@dataclass
class Reconciliation:
    """Where each source product ended up, and what is wrong with the outcome."""

    in_pim: int = 0
    dead_letter: int = 0
    lost: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    unexpected_rejections: list[str] = field(default_factory=list)
    refused_but_in_pim: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        """Human-readable problems (first few of each kind), empty when all is well."""
        found = []
        for label, items in (
            ("lost", self.lost),
            ("wrong values in PIM", self.wrong),
            ("rejected though valid", self.unexpected_rejections),
            ("in PIM though refused", self.refused_but_in_pim),
        ):
            if items:
                found.append(f"{len(items)} {label}: {items[:5]}")
        return found


def reconcile(
    products: Sequence[SourceProduct],
    pim: Iterable[Mapping[str, Any]],
    dead_letters: Iterable[Mapping[str, Any]],
) -> Reconciliation:
    """Check every product is in the PIM with its mapped values or dead-lettered with a reason.

    A product the PIM must refuse (unknown colour) counts as handled only in the dead-letter
    file with the PIM's reason; a valid one only in the PIM with exactly the expected values.
    """
    in_pim = {str(p["identifier"]): p for p in pim}
    rejected: dict[str, Mapping[str, Any]] = {}
    for line in dead_letters:
        if line.get("identifier") is not None and line.get("reason"):
            rejected[str(line["identifier"])] = line
    result = Reconciliation()
    for product in products:
        stored = in_pim.get(product.sku)
        entry = rejected.get(product.sku)
        if product.accepted:
            if stored is not None:
                result.in_pim += 1
                if comparable(dict(stored)) != product.expected():
                    result.wrong.append(product.sku)
            elif entry is not None:
                result.dead_letter += 1
                result.unexpected_rejections.append(
                    f"{product.sku}: {entry.get('reason')}: {entry.get('message')}"
                )
            else:
                result.lost.append(product.sku)
        elif stored is not None:
            result.in_pim += 1
            result.refused_but_in_pim.append(product.sku)
        elif entry is not None:
            result.dead_letter += 1
        else:
            result.lost.append(product.sku)
    return result


def expected_rejection(entry: Mapping[str, Any], colour: str) -> bool:
    """A dead-letter line that carries the PIM's reason for refusing an unknown colour."""
    text = f"{entry.get('message')} {entry.get('errors')}"
    return entry.get("reason") == "rejected_by_pim" and colour in text
