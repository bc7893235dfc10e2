"""Unit tests of the Upserter with a scripted client: skip-unchanged, outcomes, dead letters,
and no STATE once the PIM stopped answering. The same rules run against a real sandbox in
test_against_sandbox."""

from __future__ import annotations

import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from target_akeneo import cache
from target_akeneo.cache import ConfirmedPayloads, SentHashCache
from target_akeneo.client import ClientCounters, LineResult
from target_akeneo.errors import PimUnavailableError
from target_akeneo.mapping import CompiledMapping, parse_mapping
from target_akeneo.preview import DryRun
from target_akeneo.report import JsonLinesWriter, RunReport
from target_akeneo.structure import PimStructure
from target_akeneo.upsert import Batch, Unmappable, Upserter, UpsertOptions


class ScriptedClient:
    """Answers each line with the status its payload asks for (`"answer"`), 204 otherwise."""

    def __init__(self) -> None:
        self.counters = ClientCounters()
        self.requests: list[list[str]] = []

    def upsert_products(self, lines: Sequence[bytes], *, by_uuid: bool = False) -> list[LineResult]:
        payloads = [json.loads(line) for line in lines]
        self.requests.append([payload["identifier"] for payload in payloads])
        results = []
        for position, payload in enumerate(payloads, start=1):
            answer = payload.get("answer", 204)
            if answer is None:
                results.append(LineResult(position, None, {"message": "no answer"}, exhausted=True))
            else:
                body = {"message": "Validation failed."} if answer == 422 else {}
                results.append(LineResult(position, answer, body))
        return results


MAPPING = CompiledMapping(
    "products",
    lambda record: ("", {}),
    (),
    parse_mapping({"products": {"identifier": "sku"}}, "mapping.yml")["products"],
)


def make(
    tmp_path: Path, client: ScriptedClient, *, skip_unchanged: bool = True, **options: Any
) -> Upserter:
    store = SentHashCache(tmp_path / "cache.sqlite", "http://pim", "identifier")
    settings = {
        "by_uuid": False,
        "create_missing_options": False,
        "whole_product": False,
        "dry_run": False,
        "batch_size": 2,
        "max_concurrency": 1,
        "base_url": "http://pim",
        "dead_letter_path": tmp_path / "dead.jsonl",
        "run_report_path": tmp_path / "report.json",
        "preview_path": tmp_path / "preview.html",
        "report_page_path": tmp_path / "report.html",
        **options,
    }
    return Upserter(
        client=client,  # type: ignore[arg-type]
        structure=PimStructure(),
        confirmed=ConfirmedPayloads(store, skip_unchanged=skip_unchanged),
        report=RunReport(),
        dead_letters=JsonLinesWriter(tmp_path / "dead.jsonl"),
        dry_run=DryRun(JsonLinesWriter(tmp_path / "dry.jsonl")),
        options=UpsertOptions(**settings),
        executor=ThreadPoolExecutor(max_workers=1),
    )


def batch(*products: dict[str, Any]) -> Batch:
    result = Batch()
    for product in products:
        result.received += 1
        result.add(product["identifier"], product, {"sku": product["identifier"]})
    return result


def dead_letters(tmp_path: Path) -> list[dict[str, Any]]:
    lines = (tmp_path / "dead.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_every_line_is_confirmed_or_dead_lettered_and_counted(tmp_path: Path) -> None:
    client = ScriptedClient()
    upserter = make(tmp_path, client)
    mapped = batch({"identifier": "a", "answer": 201}, {"identifier": "b", "answer": 422})
    mapped.unmappable.append(Unmappable("c", {"sku": "c"}, "values.weight: expected a number"))
    mapped.received += 1
    upserter.submit(MAPPING, mapped)
    upserter.settle()
    report = upserter.finish()
    assert (report["received"], report["created"], report["rejected"]) == (3, 1, 2)
    assert [(d["identifier"], d["reason"]) for d in dead_letters(tmp_path)] == [
        ("c", "mapping_error"),
        ("b", "rejected_by_pim"),
    ]
    assert json.loads((tmp_path / "report.json").read_text(encoding="utf-8")) == report


def test_a_confirmed_payload_is_not_sent_again_in_this_run_or_the_next(tmp_path: Path) -> None:
    client = ScriptedClient()
    upserter = make(tmp_path, client)
    upserter.submit(MAPPING, batch({"identifier": "a"}, {"identifier": "b"}))
    upserter.submit(MAPPING, batch({"identifier": "a"}, {"identifier": "b", "name": "new"}))
    upserter.settle()
    assert upserter.finish()["unchanged"] == 1
    assert client.requests == [["a", "b"], ["b"]]

    next_run = ScriptedClient()
    again = make(tmp_path, next_run)
    again.submit(MAPPING, batch({"identifier": "a"}, {"identifier": "b", "name": "new"}))
    again.settle()
    assert (again.finish()["unchanged"], next_run.requests) == (2, [])


def test_a_rejected_product_is_sent_again_next_time(tmp_path: Path) -> None:
    client = ScriptedClient()
    upserter = make(tmp_path, client)
    upserter.submit(MAPPING, batch({"identifier": "a", "answer": 422}))
    upserter.settle()
    upserter.finish()
    again = make(tmp_path, client)
    again.submit(MAPPING, batch({"identifier": "a", "answer": 422}))
    again.settle()
    assert client.requests == [["a"], ["a"]]


def test_superseded_records_count_as_unchanged(tmp_path: Path) -> None:
    upserter = make(tmp_path, ScriptedClient())
    upserter.submit(MAPPING, batch({"identifier": "a", "v": 1}, {"identifier": "a", "v": 2}))
    upserter.settle()
    report = upserter.finish()
    assert (report["received"], report["updated"], report["unchanged"]) == (2, 1, 1)
    assert report["streams"]["products"]["superseded"] == 1


def test_settle_refuses_when_the_pim_stopped_answering(tmp_path: Path) -> None:
    upserter = make(tmp_path, ScriptedClient())
    upserter.submit(MAPPING, batch({"identifier": "a"}, {"identifier": "b", "answer": None}))
    with pytest.raises(PimUnavailableError, match="the PIM at http://pim is unavailable"):
        upserter.settle()
    assert [d["reason"] for d in dead_letters(tmp_path)] == ["retries_exhausted"]
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert (report["updated"], report["rejected"]) == (1, 1)


def test_dry_run_writes_payloads_and_sends_nothing(tmp_path: Path) -> None:
    client = ScriptedClient()
    upserter = make(tmp_path, client, dry_run=True)
    upserter.submit(MAPPING, batch({"identifier": "a"}))
    upserter.settle()
    assert upserter.finish()["planned"] == 1
    assert client.requests == []
    planned = (tmp_path / "dry.jsonl").read_text(encoding="utf-8")
    assert json.loads(planned) == {"stream": "products", "payload": {"identifier": "a"}}


def test_without_skip_unchanged_a_payload_is_sent_once_per_run_from_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Confirmations written to the state store (not kept in memory) still stop a resend in
    the same run; the next run with skip_unchanged off sends again."""
    monkeypatch.setattr(cache, "WRITE_EVERY", 2)
    products = [{"identifier": f"p{n}"} for n in range(6)]

    def run(client: ScriptedClient) -> dict[str, Any]:
        upserter = make(tmp_path, client, skip_unchanged=False)
        upserter.submit(MAPPING, batch(*products))
        upserter.settle()
        upserter.submit(MAPPING, batch(products[0], {"identifier": "p1", "name": "new"}))
        upserter.settle()
        return upserter.finish()

    first = ScriptedClient()
    assert run(first)["unchanged"] == 1
    assert first.requests == [["p0", "p1"], ["p2", "p3"], ["p4", "p5"], ["p1"]]
    second = ScriptedClient()
    assert run(second)["unchanged"] == 1
    assert second.requests == first.requests
