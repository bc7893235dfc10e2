"""Shape source values into the `data` Akeneo expects for each attribute type."""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Callable
from typing import Any

from target_akeneo.errors import ValueShapeError
from target_akeneo.structure import Attribute

Shaper = Callable[[Any], Any]

_TRUE = frozenset({"true", "1", "yes", "y", "on"})
_FALSE = frozenset({"false", "0", "no", "n", "off"})
_CENT = decimal.Decimal("0.01")


def to_decimal(value: Any) -> decimal.Decimal:
    """Parse a number exactly (floats through their shortest repr, never binary noise)."""
    if isinstance(value, bool):
        raise ValueShapeError(f"expected a number, got {value!r}")
    if isinstance(value, decimal.Decimal):
        number = value
    elif isinstance(value, int | float):
        number = (
            decimal.Decimal(repr(value)) if isinstance(value, float) else decimal.Decimal(value)
        )
    elif isinstance(value, str):
        try:
            number = decimal.Decimal(value.strip())
        except decimal.InvalidOperation:
            raise ValueShapeError(f"expected a number, got {value!r}") from None
    else:
        raise ValueShapeError(f"expected a number, got {type(value).__name__}")
    if not number.is_finite():
        raise ValueShapeError(f"expected a finite number, got {value!r}")
    return number


def _float_text(value: Any) -> str | None:
    """A float's shortest repr when it is plain (no exponent, finite): exact, and no Decimal."""
    if type(value) is float:
        text = repr(value)
        if "e" not in text and "n" not in text:
            return text
    return None


def shortest_decimal(value: Any) -> str:
    """`0.82` -> "0.82", `180.0` -> "180": no exponent, no trailing zeros."""
    if type(value) is int:
        return str(value)
    plain = _float_text(value)
    if plain is not None:
        text = plain.rstrip("0").rstrip(".")
        return "0" if text == "-0" else text
    number = to_decimal(value)
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "") else text


def money(value: Any) -> str:
    """At least two decimals (`129.9` -> "129.90"), more kept as given, never rounded."""
    if type(value) is int:
        return f"{value}.00"
    plain = _float_text(value)
    if plain is not None:
        whole, decimals = plain.split(".")
        return f"{whole}.{decimals:0<2}"
    number = to_decimal(value)
    if number.as_tuple().exponent in (0, -1) or number == number.to_integral_value():
        number = number.quantize(_CENT)
    return format(number, "f")


def integer(value: Any) -> int:
    number = to_decimal(value)
    if number != number.to_integral_value():
        raise ValueShapeError(f"expected an integer (the attribute takes no decimals), got {value}")
    return int(number)


def text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | decimal.Decimal):
        return shortest_decimal(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    raise ValueShapeError(f"expected text, got {type(value).__name__}")


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    raise ValueShapeError(f"expected a boolean, got {value!r}")


def date(value: Any) -> str:
    """Akeneo stores dates as ISO 8601 with a time part at midnight UTC."""
    if isinstance(value, datetime.datetime):
        day = value.date()
    elif isinstance(value, datetime.date):
        day = value
    elif isinstance(value, str):
        try:
            day = datetime.date.fromisoformat(value.strip()[:10])
        except ValueError:
            raise ValueShapeError(f"expected a date YYYY-MM-DD, got {value!r}") from None
    else:
        raise ValueShapeError(f"expected a date, got {type(value).__name__}")
    return f"{day.isoformat()}T00:00:00+00:00"


def option_code(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ValueShapeError(f"expected an option code, got {value!r}")


def option_codes(value: Any) -> list[str]:
    if not isinstance(value, list | tuple):
        return [option_code(value)]
    return [option_code(item) for item in value]


def passthrough(value: Any) -> Any:
    return value


def scalar_shaper(attribute: Attribute) -> Shaper:
    """The shaper for attribute types whose data is one value (not metric or price)."""
    kind = attribute.type
    if kind in ("pim_catalog_text", "pim_catalog_textarea", "pim_catalog_identifier"):
        return text
    if kind == "pim_catalog_number":
        return shortest_decimal if attribute.decimals_allowed else integer
    if kind == "pim_catalog_boolean":
        return boolean
    if kind == "pim_catalog_date":
        return date
    if kind == "pim_catalog_simpleselect":
        return option_code
    if kind == "pim_catalog_multiselect":
        return option_codes
    return passthrough


def metric_amount(attribute: Attribute) -> Shaper:
    return shortest_decimal if attribute.decimals_allowed else integer


def price_amount(attribute: Attribute) -> Shaper:
    return money if attribute.decimals_allowed else integer
