"""Model rows found unchanged as they are held, before any planning.

A nightly re-run of a variant catalog is mostly unchanged, yet every held row used to be
read back from the spill, planned with its models and compared chunk by chunk only to be
found unchanged. A row's own variant payload, and the payloads its root and sub-model would
have if it were their only row, depend on the row alone (and its family variant): when all
three are the very payloads the PIM confirmed, the row agrees with what the PIM has. A
model whose rows all agree (models.py checks the rest at settle: no duplicate axes, not
seen earlier in the run) plans to exactly the confirmed payloads, so it is counted
unchanged without being planned.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from target_akeneo.cache import ConfirmedPayloads
from target_akeneo.deltas import confirmed_as_is


@dataclass(frozen=True)
class Candidate:
    """A held row as the plan would send it: its variant payload, and the code and payload
    of its root model, then of its sub-model (if any), from this row's values alone."""

    identifier: str
    product: dict[str, Any]
    models: tuple[tuple[str, dict[str, Any]], ...]


class UnchangedCheck:
    """Compares candidates with what the PIM confirmed per stream: products in the
    products' state store scope, models in the models' (the scopes `delta` reads)."""

    def __init__(self, products: ConfirmedPayloads, models: ConfirmedPayloads) -> None:
        self._products = products
        self._models = models

    def confirmed(self, stream: str, identifiers: Sequence[str]) -> dict[str, bytes]:
        """The products' confirmed states: only rows with one are worth shaping (none are on
        a first load)."""
        return self._products.known(stream, identifiers) if identifiers else {}

    def unchanged(
        self, stream: str, candidates: Sequence[Candidate], confirmed: Mapping[str, bytes]
    ) -> set[str]:
        """The identifiers of the candidates whose three payloads the PIM has as they are
        (`confirmed`: the products' states, from `confirmed`)."""
        if not candidates:
            return set()
        codes = sorted({code for c in candidates for code, _payload in c.models})
        models = self._models.known(stream, codes)
        return {
            c.identifier
            for c in candidates
            if confirmed_as_is(c.product, confirmed.get(c.identifier))
            and all(confirmed_as_is(payload, models.get(code)) for code, payload in c.models)
        }
