"""The standard measurement families built into every sandbox, with Akeneo's unit codes."""

from __future__ import annotations

from typing import Any

# family code -> (standard unit, [(unit code, symbol, factor to the standard unit)]).
# A factor of None marks a unit whose conversion is not a plain multiplication.
_FAMILIES: dict[str, tuple[str, list[tuple[str, str, str | None]]]] = {
    "Weight": (
        "KILOGRAM",
        [
            ("MICROGRAM", "μg", "0.000000001"),
            ("MILLIGRAM", "mg", "0.000001"),
            ("GRAM", "g", "0.001"),
            ("KILOGRAM", "kg", "1"),
            ("TON", "t", "1000"),
            ("GRAIN", "gr", "0.00006479891"),
            ("DENIER", "denier", "0.001275"),
            ("ONCE", "once", "0.03059"),
            ("MARC", "marc", "0.24475"),
            ("LIVRE", "livre", "0.4895"),
            ("OUNCE", "oz", "0.028349523125"),
            ("POUND", "lb", "0.45359237"),
        ],
    ),
    "Length": (
        "METER",
        [
            ("NANOMETER", "nm", "0.000000001"),
            ("MICROMETER", "μm", "0.000001"),
            ("MILLIMETER", "mm", "0.001"),
            ("CENTIMETER", "cm", "0.01"),
            ("DECIMETER", "dm", "0.1"),
            ("METER", "m", "1"),
            ("DEKAMETER", "dam", "10"),
            ("HECTOMETER", "hm", "100"),
            ("KILOMETER", "km", "1000"),
            ("MIL", "mil", "0.0000254"),
            ("INCH", "in", "0.0254"),
            ("FEET", "ft", "0.3048"),
            ("YARD", "yd", "0.9144"),
            ("CHAIN", "ch", "20.1168"),
            ("FURLONG", "fur", "201.168"),
            ("MILE", "mi", "1609.344"),
        ],
    ),
    "Volume": (
        "CUBIC_METER",
        [
            ("CUBIC_MILLIMETER", "mm³", "0.000000001"),
            ("CUBIC_CENTIMETER", "cm³", "0.000001"),
            ("MILLILITER", "ml", "0.000001"),
            ("CENTILITER", "cl", "0.00001"),
            ("DECILITER", "dl", "0.0001"),
            ("CUBIC_DECIMETER", "dm³", "0.001"),
            ("LITER", "l", "0.001"),
            ("CUBIC_METER", "m³", "1"),
            ("OUNCE", "oz", "0.00002841"),
            ("PINT", "pt", "0.00056826125"),
            ("BARREL", "bbl", "0.16365924"),
            ("LIQUID_GALLON", "gal", "0.00378541178"),
            ("CUBIC_FOOT", "ft³", "0.028316846592"),
            ("CUBIC_INCH", "in³", "0.000016387064"),
            ("CUBIC_YARD", "yd³", "0.764554857984"),
        ],
    ),
    "Area": (
        "SQUARE_METER",
        [
            ("SQUARE_MILLIMETER", "mm²", "0.000001"),
            ("SQUARE_CENTIMETER", "cm²", "0.0001"),
            ("SQUARE_DECIMETER", "dm²", "0.01"),
            ("SQUARE_METER", "m²", "1"),
            ("CENTIARE", "ca", "1"),
            ("SQUARE_DEKAMETER", "dam²", "100"),
            ("ARE", "a", "100"),
            ("SQUARE_HECTOMETER", "hm²", "10000"),
            ("HECTARE", "ha", "10000"),
            ("SQUARE_KILOMETER", "km²", "1000000"),
            ("SQUARE_MIL", "sq mil", "0.00000000064516"),
            ("SQUARE_INCH", "in²", "0.00064516"),
            ("SQUARE_FOOT", "ft²", "0.09290304"),
            ("SQUARE_YARD", "yd²", "0.83612736"),
            ("ARPENT", "arpent", "3418.89"),
            ("ACRE", "A", "4046.856422"),
            ("SQUARE_FURLONG", "fur²", "40468.726"),
            ("SQUARE_MILE", "mi²", "2589988.110336"),
        ],
    ),
    "Temperature": (
        "KELVIN",
        [
            ("CELSIUS", "°C", None),
            ("FAHRENHEIT", "°F", None),
            ("KELVIN", "°K", "1"),
            ("RANKINE", "°R", "0.5555555556"),
            ("REAUMUR", "°r", None),
        ],
    ),
    "Duration": (
        "SECOND",
        [
            ("MILLISECOND", "ms", "0.001"),
            ("SECOND", "s", "1"),
            ("MINUTE", "m", "60"),
            ("HOUR", "h", "3600"),
            ("DAY", "d", "86400"),
            ("WEEK", "week", "604800"),
            ("MONTH", "month", "18748800"),
            ("YEAR", "year", "31536000"),
        ],
    ),
    "ElectricCharge": (
        "AMPEREHOUR",
        [
            ("MILLIAMPEREHOUR", "mAh", "0.001"),
            ("AMPEREHOUR", "Ah", "1"),
            ("MILLICOULOMB", "mC", "0.00000000277777778"),
            ("CENTICOULOMB", "cC", "0.00000277777778"),
            ("DECICOULOMB", "dC", "0.0000277777778"),
            ("COULOMB", "C", "0.000277777778"),
            ("DEKACOULOMB", "daC", "0.00277777778"),
            ("HECTOCOULOMB", "hC", "0.0277777778"),
            ("KILOCOULOMB", "kC", "0.277777778"),
        ],
    ),
    "Power": (
        "WATT",
        [
            ("WATT", "W", "1"),
            ("KILOWATT", "kW", "1000"),
            ("MEGAWATT", "MW", "1000000"),
            ("GIGAWATT", "GW", "1000000000"),
            ("TERAWATT", "TW", "1000000000000"),
        ],
    ),
}


def _label(code: str) -> str:
    return code.replace("_", " ").capitalize()


def standard_measurement_families() -> dict[str, dict[str, Any]]:
    """Measurement families in the shape of `GET /api/rest/v1/measurement-families`."""
    families: dict[str, dict[str, Any]] = {}
    for code, (standard, units) in _FAMILIES.items():
        family_units: dict[str, Any] = {}
        for unit, symbol, factor in units:
            operations = [] if factor is None else [{"operator": "mul", "value": factor}]
            family_units[unit] = {
                "code": unit,
                "labels": {"en_US": _label(unit)},
                "convert_from_standard": operations,
                "symbol": symbol,
            }
        families[code] = {
            "code": code,
            "labels": {"en_US": code},
            "standard_unit_code": standard,
            "units": family_units,
        }
    return families
