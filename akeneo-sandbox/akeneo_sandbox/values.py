"""Value data by attribute type: the format checks of Akeneo's updater and its normalisation."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from akeneo_sandbox.catalog import Doc
from akeneo_sandbox.errors import ApiError, format_error, php_type

DATE_INPUT = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)
EMPTY: tuple[Any, ...] = (None, "", [])


class ValueFormat:
    """Checks `data` for one attribute; raises Akeneo's 422 format errors (with doc link)."""

    def __init__(self, anchor: str) -> None:
        self.anchor = anchor

    def error(self, message: str) -> ApiError:
        return format_error(message, self.anchor)

    def expects(self, code: str, what: str, data: object) -> ApiError:
        return self.error(f'Property "{code}" expects {what} as data, "{php_type(data)}" given.')

    def normalize(self, attribute: Doc, data: Any) -> Any:
        """The data as stored and returned by GET, or None when the value is erased."""
        if data in EMPTY:
            return None
        kind = attribute["type"]
        code = attribute["code"]
        if kind in ("pim_catalog_text", "pim_catalog_textarea", "pim_catalog_identifier"):
            return self._string(code, data)
        if kind in ("pim_catalog_file", "pim_catalog_image", "pim_catalog_simpleselect"):
            return self._string(code, data)
        if kind == "pim_catalog_boolean":
            if not isinstance(data, bool):
                raise self.expects(code, "a boolean", data)
            return data
        if kind == "pim_catalog_number":
            return self._number(code, data)
        if kind == "pim_catalog_date":
            return self._date(code, data)
        if kind == "pim_catalog_multiselect":
            if not isinstance(data, list) or not all(isinstance(item, str) for item in data):
                raise self.expects(code, "an array", data)
            return data
        if kind == "pim_catalog_metric":
            return self._metric(code, data)
        if kind == "pim_catalog_price_collection":
            return self._prices(code, data)
        raise self.error(f'Attribute type "{kind}" of "{code}" is not supported by the sandbox.')

    def _string(self, code: str, data: object) -> str:
        if not isinstance(data, str):
            raise self.expects(code, "a string", data)
        return data

    def _number(self, code: str, data: object) -> Any:
        if isinstance(data, bool) or not isinstance(data, int | float | str):
            raise self.expects(code, "a numeric", data)
        # Decimals travel as strings, as Akeneo returns them; integers stay integers.
        return repr(data) if isinstance(data, float) else data

    def _date(self, code: str, data: object) -> str:
        if not isinstance(data, str):
            raise self.expects(code, "a string", data)
        match = DATE_INPUT.match(data)
        try:
            day = date(int(match[1]), int(match[2]), int(match[3])) if match else None
        except ValueError:
            day = None
        if day is None:
            raise self.error(
                f'Property "{code}" expects a string with the format "yyyy-mm-dd" as data, '
                f'"{data}" given.'
            )
        return f"{day.isoformat()}T00:00:00+00:00"

    def _keys(self, code: str, data: object, keys: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise self.expects(code, "an array", data)
        for key in keys:
            if key not in data:
                raise self.error(
                    f'Property "{code}" expects an array with the key "{key}" as data.'
                )
        return data

    def _metric(self, code: str, data: object) -> dict[str, Any]:
        metric = self._keys(code, data, ("amount", "unit"))
        if not isinstance(metric["unit"], str):
            raise self.error(
                f'Property "{code}" expects a string as unit, "{php_type(metric["unit"])}" given.'
            )
        if metric["amount"] is None:
            return {"amount": None, "unit": metric["unit"]}
        return {"amount": self._number(code, metric["amount"]), "unit": metric["unit"]}

    def _prices(self, code: str, data: object) -> list[dict[str, Any]]:
        if not isinstance(data, list):
            raise self.expects(code, "an array", data)
        prices = []
        for item in data:
            price = self._keys(code, item, ("amount", "currency"))
            if not isinstance(price["currency"], str):
                raise self.expects(code, "a string as currency", price["currency"])
            amount = price["amount"]
            if amount is not None:
                amount = self._number(code, amount)
            prices.append({"amount": amount, "currency": price["currency"]})
        return prices
