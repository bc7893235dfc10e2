"""Category codes checked against the PIM before any product that names them is sent.

Codes the mapping names itself (map targets, constants, defaults) are checked at start with
the rest of the structure. Codes read from a record field are known only from the records:
the first batch of each stream is checked (one search request per 100 unknown codes)
before it is sent. An unknown code stops the run instead of rejecting the products that
have it: such a code is nearly always a systematic mapping mistake (a `map` that does not
match, a field holding labels instead of codes), which would reject the whole catalog one
product at a time.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from target_akeneo.client import AkeneoClient
from target_akeneo.errors import ApiError, MappingError
from target_akeneo.mapping import StreamMapping, category_codes

if TYPE_CHECKING:
    from target_akeneo.upsert import Batch

logger = logging.getLogger("target-akeneo")


def _existing(client: AkeneoClient, codes: set[str]) -> set[str]:
    return {str(item["code"]) for item in client.categories(codes)} if codes else set()


class CategoryCheck:
    """Remembers the codes the PIM has; checks each stream's first batch once."""

    def __init__(self, client: AkeneoClient, known: set[str]) -> None:
        self._client = client
        self._known = known
        self._checked: set[str] = set()

    @classmethod
    def at_start(cls, client: AkeneoClient, streams: Mapping[str, StreamMapping]) -> CategoryCheck:
        """Check the codes the mappings name; raise `MappingError` one line per unknown code."""
        named = {name: category_codes(mapping) for name, mapping in streams.items()}
        wanted = set().union(*named.values()) if named else set()
        known = _existing(client, wanted)
        problems = [
            f"{streams[name].place}.categories: category '{code}' does not exist in the PIM"
            for name, codes in named.items()
            for code in sorted(codes - known)
        ]
        if problems:
            raise MappingError(*problems)
        return cls(client, known)

    def check(self, mapping: StreamMapping, *batches: Batch) -> None:
        """Before a stream's first batches are sent (its retried products and its first
        drained batch): every category code read from a record field must exist; raise
        `MappingError` naming the code, the field and a product that has it."""
        source = mapping.categories
        if mapping.stream in self._checked or source is None or source.field is None:
            return
        if mapping.category_path is not None:
            return  # paths, turned into codes and checked by category_paths.py
        self._checked.add(mapping.stream)
        example: dict[str, str] = {}
        for batch in batches:
            for identifier, (payload, _record) in batch.products.items():
                for code in payload.get("categories") or ():
                    if code not in self._known:
                        example.setdefault(code, identifier)
        if not example:
            return
        try:
            self._known |= _existing(self._client, set(example))
        except ApiError as exc:
            # The PIM stopped answering: the products' own requests will say so (and keep
            # them for the next run); the check is not what should end the run.
            logger.warning("category codes of stream '%s' not checked: %s", mapping.stream, exc)
            return
        problems = [
            f"{mapping.place}.categories: category '{code}' (from field '{source.field}', "
            f"e.g. product '{identifier}') does not exist in the PIM"
            for code, identifier in sorted(example.items())
            if code not in self._known
        ]
        if problems:
            raise MappingError(*problems)
