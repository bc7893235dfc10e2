"""Issue 12, options Akeneo accepts: codes made from source values, labels from the text."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from target_akeneo.option_codes import MAX_LENGTH, OptionCodes, slug
from target_akeneo.structure import PimStructure
from target_akeneo.testing import ACCEPTANCE_RECORDS, run_target, sandbox_config, singer_lines


def test_slug_folds_accents_and_keeps_letters_digits_underscores() -> None:
    assert slug("Movano Premium") == "movano_premium"
    assert slug("Crème brûlée / 2") == "creme_brulee_2"
    assert slug("Straße") == "strasse"
    long = slug("x" * 300)
    assert len(long) == MAX_LENGTH
    assert long == slug("x" * 300)  # stable
    assert slug("日本").startswith("option_")


def test_codes_are_stable_and_collisions_resolved_deterministically() -> None:
    structure = PimStructure(options={"color": {"red"}}, option_labels={"color": {}})
    codes = OptionCodes(structure)
    first = codes.codes_for("color", ["movano-premium", "Movano Premium", "red", "PURPLE"])
    again = codes.codes_for("color", ["PURPLE", "red", "Movano Premium", "movano-premium"])
    assert first == again
    assert first["red"] == "red"
    assert first["PURPLE"] == "PURPLE"  # already a valid code
    assert first["Movano Premium"] == "movano_premium"  # first in sorted order
    assert first["movano-premium"].startswith("movano_premium_")
    assert len(set(first.values())) == 4

    # An existing option of that code made for another text keeps it; this value gets its own.
    structure.options["color"].add("movano_premium")
    structure.option_labels["color"]["movano_premium"] = frozenset({"movano-premium"})
    later = codes.codes_for("color", ["Movano Premium"])
    assert later["Movano Premium"].startswith("movano_premium_")
    assert codes.codes_for("color", ["movano-premium"]) == {"movano-premium": "movano_premium"}


def test_created_option_has_a_valid_code_and_the_source_text_as_labels(
    fresh_sandbox: Any, tmp_path: Path
) -> None:
    """Why: `create_missing_options` created the code `Movano Premium` with empty labels."""
    records = copy.deepcopy(ACCEPTANCE_RECORDS[:2])
    records[0]["color"] = "Movano Premium"
    records[1]["color"] = "Movano Premium"
    config = sandbox_config(fresh_sandbox, tmp_path, create_missing_options=True)

    run = run_target(config, singer_lines(records), tmp_path)

    assert run.returncode == 0, run.stderr
    assert run.report["rejected"] == 0
    response = fresh_sandbox.api_get("attributes/color/options/movano_premium")
    assert response.status_code == 200, response.text
    option = response.json()
    # The acceptance mapping writes en_US and de_DE: the labels are in those locales.
    assert option["labels"] == {"en_US": "Movano Premium", "de_DE": "Movano Premium"}
    for sku in ("SKU-100234", "SKU-100235"):
        product = fresh_sandbox.get_product(sku)
        assert product["values"]["color"] == [
            {"locale": None, "scope": None, "data": "movano_premium"}
        ]

    # Next run: the same value finds its option by label and creates nothing.
    records[0]["name"] = {"en": "Trail runner II"}
    again = run_target(config, singer_lines(records), tmp_path)
    assert again.returncode == 0, again.stderr
    assert "option(s) of attribute 'color'" in run.stderr
    assert "option(s) of attribute 'color'" not in again.stderr
    options = fresh_sandbox.api_get("attributes/color/options", limit=100).json()
    codes = [item["code"] for item in options["_embedded"]["items"]]
    assert codes.count("movano_premium") == 1
    assert not any(code.startswith("movano_premium_") for code in codes)
    assert again.report["updated"] == 1
