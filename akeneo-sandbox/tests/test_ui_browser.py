"""The sandbox browser (/sandbox/ui) in headless Chromium, against a real sandbox process whose
content was loaded through the API: what a person sees is checked against what the API holds.
Screenshots go to test-output/screenshots/test_ui_browser/<test>/."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from akeneo_sandbox.testing import SandboxProcess

from .http_api import Api
from .ui_sample import BLUE_PNG, CATEGORIES, MODELS, PRODUCTS, RED_PNG, Sample, load_sample

pytestmark = pytest.mark.browser
Shot = Callable[..., Path]


class Pim:
    """The sandbox with the sample loaded, and what its API answers."""

    def __init__(self, process: SandboxProcess, sample: Sample) -> None:
        self.process = process
        self.sample = sample
        self.products = {p["identifier"]: p for p in process.all_products()}
        self.models = {m["code"]: m for m in process.all_product_models()}

    def url(self, path: str = "") -> str:
        return f"{self.process.base_url}/sandbox/ui{path}"


@pytest.fixture(scope="module")
def pim() -> Iterator[Pim]:
    with SandboxProcess() as process:
        yield Pim(process, load_sample(Api(process)))


def grid_keys(page: Page) -> list[str]:
    return page.locator("#grid tbody tr td.key").all_inner_texts()


def open_product(page: Page, pim: Pim, identifier: str) -> None:
    """From the grid, as a person would: filter on the identifier, follow its link."""
    page.goto(pim.url())
    page.fill("input[name=q]", identifier)
    with page.expect_navigation():
        page.click("button[type=submit]")
    with page.expect_navigation():
        page.locator("#grid td.key a", has_text=identifier).first.click()
    expect(page.locator("h1")).to_contain_text(identifier)


def image_loaded(page: Page, selector: str) -> bool:
    """The browser decoded the image (a broken one has naturalWidth 0)."""
    image = page.locator(selector)
    image.scroll_into_view_if_needed()
    expect(image).to_be_visible()
    width: int = image.evaluate("img => img.complete ? img.naturalWidth : -1")
    return width > 0


def test_grid_lists_every_product_and_model_with_counts(
    page: Page, pim: Pim, screenshot: Shot, browser_errors: list[str]
) -> None:
    page.goto(pim.url())
    expected = sorted(pim.models) + sorted(pim.products)
    assert grid_keys(page) == expected
    count = page.locator("#count")
    assert count.get_attribute("data-products") == str(len(pim.products))
    assert count.get_attribute("data-models") == str(len(pim.models))
    assert f"{len(pim.products)} products" in page.inner_text("#totals")
    assert f"{len(pim.models)} product models" in page.inner_text("#totals")
    mug = pim.products["mug"]
    row = page.locator(f"#grid tr[data-key='{mug['uuid']}']")
    name = {e["locale"]: e["data"] for e in mug["values"]["name"]}
    assert row.locator("td").nth(4).inner_text() == name["en_US"]
    assert row.locator("td").nth(3).inner_text() == mug["family"]
    assert image_loaded(page, f"#grid tr[data-key='{mug['uuid']}'] img.thumb")
    screenshot("grid", full_page=True)

    page.select_option("select[name=locale]", "de_DE")
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert row.locator("td").nth(4).inner_text() == name["de_DE"]
    expect(page.locator("#grid thead")).to_contain_text("Label (de_DE)")
    screenshot("grid-de_DE")
    assert browser_errors == []


def test_text_filter_narrows_the_grid(
    page: Page, pim: Pim, screenshot: Shot, browser_errors: list[str]
) -> None:
    page.goto(pim.url())
    page.fill("input[name=q]", "tshirt-red")
    with page.expect_navigation():
        page.click("button[type=submit]")
    by_key = sorted(k for k in pim.products if "tshirt-red" in k)
    assert by_key, "the sample has variants named tshirt-red-…"
    assert grid_keys(page) == by_key
    assert page.locator("#count").get_attribute("data-products") == str(len(by_key))
    assert page.locator("#count").get_attribute("data-models") == "0"
    screenshot("filtered-by-identifier")

    # A word of a German name and description: only what holds it in its own values.
    page.fill("input[name=q]", "leinen")
    with page.expect_navigation():
        page.click("button[type=submit]")
    sent = [(m["code"], m) for m in MODELS] + [(p["identifier"], p) for p in PRODUCTS]
    holders = [key for key, doc in sent if "leinen" in json.dumps(doc["values"]).lower()]
    assert holders, "the sample has a German value with Leinen"
    assert sorted(grid_keys(page)) == sorted(holders)
    screenshot("filtered-by-value")

    page.fill("input[name=q]", "no such thing")
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert grid_keys(page) == []
    expect(page.locator("#grid tbody")).to_contain_text("Nothing matches.")
    assert browser_errors == []


def test_grid_pages_show_every_row_once(pim: Pim, page: Page, browser_errors: list[str]) -> None:
    total = len(pim.products) + len(pim.models)
    limit = 4
    page.goto(pim.url(f"?limit={limit}"))
    seen: list[str] = []
    pages = -(-total // limit)
    for number in range(1, pages + 1):
        expect(page.locator("#page-number")).to_have_text(f"Page {number} of {pages}")
        keys = grid_keys(page)
        assert len(keys) == min(limit, total - len(seen))
        seen += keys
        if number < pages:
            with page.expect_navigation():
                page.click("nav.pager >> text=Next")
    assert page.locator("nav.pager >> text=Next").count() == 0
    assert seen == sorted(pim.models) + sorted(pim.products)
    assert browser_errors == []


def _cells(page: Page) -> dict[tuple[str, ...], tuple[str, str]]:
    """(attribute, locale, channel) → (value text, source) of the values table."""
    found = {}
    for row in page.locator("#values tbody tr").all():
        key = tuple(
            row.get_attribute(a) or "" for a in ("data-attribute", "data-locale", "data-scope")
        )
        found[key] = (row.locator("td.value").inner_text(), row.locator("td.source").inner_text())
    return found


def test_variant_page_shows_values_per_locale_and_channel_and_its_family(
    page: Page, pim: Pim, screenshot: Shot, browser_errors: list[str]
) -> None:
    variant = pim.products["tshirt-red-s"]
    sub = pim.models[variant["parent"]]
    root = pim.models[sub["parent"]]
    open_product(page, pim, variant["identifier"])
    cells = _cells(page)
    assert set(cells) == {
        (code, e["locale"] or "", e["scope"] or "")
        for code, entries in variant["values"].items()
        for e in entries
    }
    for code in ("name", "description"):  # text values as stored, in their locale and channel
        for entry in variant["values"][code]:
            text, _ = cells[(code, entry["locale"] or "", entry["scope"] or "")]
            assert text == entry["data"]
    size = variant["values"]["size"][0]["data"]
    assert f"[{size}]" in cells[("size", "", "")][0]
    # Where each value comes from: the root model (its GET shows only its own values), the sub
    # model (its GET adds the root's), or the variant itself.
    for (code, _, _), (_, source) in cells.items():
        if code in root["values"]:
            assert source == root["code"], code
        elif code in sub["values"]:
            assert source == sub["code"], code
        else:
            assert source == "own", code

    assert page.inner_text("dd[data-fact=parent]") == f"{root['code']} › {sub['code']}"
    tree = page.locator("#tree")
    expect(tree.locator("[aria-current=page]")).to_have_text(variant["identifier"])
    siblings = sorted(p["identifier"] for p in pim.products.values() if p["parent"] == sub["code"])
    entries = tree.locator(f"li[data-key='{sub['code']}'] li[data-kind=product] > :first-child")
    assert sorted(entries.all_inner_texts()) == siblings
    screenshot("variant", full_page=True)
    assert browser_errors == []


def test_model_page_shows_its_sub_models_and_their_variants(
    page: Page, pim: Pim, screenshot: Shot, browser_errors: list[str]
) -> None:
    root = next(m for m in pim.models.values() if m["parent"] is None)
    page.goto(pim.url())
    with page.expect_navigation():
        page.locator("#grid td.key a", has_text=root["code"]).first.click()
    expect(page.locator("h1")).to_have_text(f"Product model {root['code']}")
    tree = page.locator("#tree")
    subs = sorted(code for code, m in pim.models.items() if m["parent"] == root["code"])
    shown_subs = tree.locator(f"li[data-key='{root['code']}'] > ul > li[data-kind=model]")
    assert sorted(shown_subs.evaluate_all("items => items.map(i => i.dataset.key)")) == subs
    for code in subs:
        variants = sorted(p["uuid"] for p in pim.products.values() if p["parent"] == code)
        shown = tree.locator(f"li[data-key='{code}'] > ul > li[data-kind=product]")
        assert sorted(shown.evaluate_all("items => items.map(i => i.dataset.key)")) == variants
    assert page.locator("dd[data-fact=parent]").count() == 0
    cells = _cells(page)
    for entry in root["values"]["name"]:
        assert cells[("name", entry["locale"], "")] == (entry["data"], "own")
    screenshot("model", full_page=True)
    assert browser_errors == []


def test_uploaded_images_are_shown(
    page: Page, pim: Pim, screenshot: Shot, browser_errors: list[str]
) -> None:
    identifier, filename = pim.sample.product_image
    open_product(page, pim, identifier)
    code = pim.products[identifier]["values"]["image"][0]["data"]
    image = "#values tr[data-attribute=image] img"
    assert image_loaded(page, image)
    source = page.get_attribute(image, "src")
    assert source is not None
    assert code in source
    assert page.request.get(f"{pim.process.base_url}{source}").body() == BLUE_PNG
    expect(page.locator("#values tr[data-attribute=image] a.media-link")).to_have_text(filename)
    screenshot("product-with-image", full_page=True)

    # The sub model's image, uploaded on the model, shows on its variants too.
    model, filename = pim.sample.model_image
    variant = next(p for p in pim.products.values() if p["parent"] == model)
    open_product(page, pim, variant["identifier"])
    assert image_loaded(page, image)
    source = page.get_attribute(image, "src")
    assert page.request.get(f"{pim.process.base_url}{source}").body() == RED_PNG
    expect(page.locator("#values tr[data-attribute=image] td.source")).to_have_text(model)
    assert browser_errors == []


def test_associations_link_to_their_targets(page: Page, pim: Pim) -> None:
    mug = pim.products["mug"]
    open_product(page, pim, mug["identifier"])
    for kind, links in mug["associations"].items():
        targets = [*links["products"], *links["product_models"]]
        row = page.locator(f"#associations tr[data-type={kind}]")
        if targets:
            assert row.locator("a").all_inner_texts() == targets
        else:
            assert row.count() == 0
    for kind, links in mug["quantified_associations"].items():
        row = page.locator(f"#associations tr[data-type={kind}]")
        for link in links["products"]:
            expect(row).to_contain_text(f"{link['identifier']} × {link['quantity']}")
    with page.expect_navigation():
        page.locator("#associations a", has_text="tshirt").first.click()
    expect(page.locator("h1")).to_have_text("Product model tshirt")


def test_category_tree_shows_nested_categories(
    page: Page, pim: Pim, screenshot: Shot, browser_errors: list[str]
) -> None:
    categories = pim.process.api_get("categories", limit=100).json()["_embedded"]["items"]
    page.goto(pim.url("/categories"))
    tree = page.locator("#category-tree")
    for category in categories:
        node = tree.locator(f"li[data-code='{category['code']}']")
        expect(node).to_have_count(1)
        if category["parent"] is None:
            assert tree.locator(f":scope > li[data-code='{category['code']}']").count() == 1
        else:
            nested = tree.locator(
                f"li[data-code='{category['parent']}'] > ul > li[data-code='{category['code']}']"
            )
            expect(nested).to_have_count(1)
    deepest = CATEGORIES[-1]["code"]
    assert tree.locator(f"li li li li[data-code='{deepest}']").count() == 1
    screenshot("categories")

    # Each category links to the grid of what is classified in it.
    summer = next(c for c in categories if c["code"] == "summer")
    with page.expect_navigation():
        page.locator("#category-tree a", has_text=summer["labels"]["en_US"]).click()
    classified = sorted(k for k, m in pim.models.items() if "summer" in m["categories"])
    classified += sorted(k for k, p in pim.products.items() if "summer" in p["categories"])
    assert classified
    assert grid_keys(page) == classified
    expect(page.locator("#category-filter")).to_contain_text(summer["labels"]["en_US"])
    assert browser_errors == []
