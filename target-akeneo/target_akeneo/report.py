"""Run report (counts, requests, duration) and the dead-letter file of rejected products."""

from __future__ import annotations

import datetime
import decimal
import json
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

from target_akeneo.client import ClientCounters

OUTCOMES = ("received", "created", "updated", "unchanged", "rejected", "planned")
# Product models are counted apart from products (they are not received lines).
MODEL_OUTCOMES = ("created", "updated", "unchanged", "rejected", "planned")
# Media values are counted apart from products: a product can land while its image fails.
MEDIA_OUTCOMES = ("media_uploaded", "media_unchanged", "media_failed")
ASSOCIATION_OUTCOMES = ("associations_sent", "associations_unchanged", "associations_failed")
MISSING_OUTCOMES = ("missing", "missing_disabled", "missing_deleted")
# Of the received: products of a `create: false` stream that the PIM does not have.
SKIPPED_OUTCOMES = ("skipped_missing",)
# Of the received: products sent again from the state store, and those rejected again.
RETRY_COUNTS = ("retried", "still_rejected")
# What the product lines carried: values (erasures included) and bytes, of every line sent.
SENT_COUNTS = ("values_sent", "bytes_sent")


def _json_default(value: Any) -> Any:
    """Records may carry Decimal, date and datetime values after SDK parsing."""
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal) and value.is_finite():
        return int(value) if value == value.to_integral_value() else float(value)
    return str(value)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=_json_default)


class RunReport:
    """Per-stream counts; received = created + updated + unchanged + rejected (+ planned,
    + skipped_missing)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._started = clock()
        self._lock = threading.Lock()
        self.streams: dict[str, dict[str, int]] = {}
        self.models: dict[str, int] = {}

    def add(self, stream: str, outcome: str, count: int = 1) -> None:
        with self._lock:
            counts = self.streams.setdefault(stream, dict.fromkeys(OUTCOMES + RETRY_COUNTS, 0))
            counts[outcome] = counts.get(outcome, 0) + count

    def add_model(self, outcome: str, count: int = 1) -> None:
        with self._lock:
            self.models[outcome] = self.models.get(outcome, 0) + count

    def total(self, outcome: str) -> int:
        with self._lock:
            return sum(counts.get(outcome, 0) for counts in self.streams.values())

    def to_dict(
        self, counters: ClientCounters, dead_letter_path: Path | None, *, dry_run: bool
    ) -> dict[str, Any]:
        report: dict[str, Any] = {
            outcome: self.total(outcome) for outcome in OUTCOMES + RETRY_COUNTS
        }
        if not dry_run:
            report.pop("planned")
        for outcome in (
            *SENT_COUNTS,
            *MEDIA_OUTCOMES,
            *ASSOCIATION_OUTCOMES,
            *MISSING_OUTCOMES,
            *SKIPPED_OUTCOMES,
        ):
            report[outcome] = self.total(outcome)
        report.update(
            requests=counters.requests,
            product_requests=counters.product_requests,
            retries=counters.retries,
            token_grants=counters.token_grants,
            concurrency=counters.concurrency.snapshot() if counters.concurrency else None,
            duration_seconds=round(self._clock() - self._started, 3),
            # This run's dead-letter file, or None when it rejected nothing.
            dead_letter_path=None if dead_letter_path is None else str(dead_letter_path),
            dry_run=dry_run,
            finished_at=datetime.datetime.now(tz=datetime.UTC).isoformat(timespec="seconds"),
            streams={name: dict(counts) for name, counts in self.streams.items()},
        )
        if self.models:
            report["models"] = {
                outcome: self.models.get(outcome, 0)
                for outcome in MODEL_OUTCOMES
                if dry_run or outcome != "planned"
            }
        return report


def summary_line(report: Mapping[str, Any]) -> str:
    return (
        f"target-akeneo summary: received={report['received']} created={report['created']}"
        f" updated={report['updated']} unchanged={report['unchanged']}"
        f" rejected={report['rejected']} retried={report['retried']}"
        f" still_rejected={report['still_rejected']} values_sent={report['values_sent']}"
        f" requests={report['requests']}"
        f" retries={report['retries']} duration={report['duration_seconds']:.1f}s"
        + _nonzero_part(report)
        + _models_part(report)
    )


def _nonzero_part(report: Mapping[str, Any]) -> str:
    """Media, associations, missing and skipped products, where the run had any: a failed
    image or association must show on the one line a nightly log keeps."""
    extras = (*SKIPPED_OUTCOMES, *MEDIA_OUTCOMES, *ASSOCIATION_OUTCOMES, *MISSING_OUTCOMES)
    return "".join(f" {name}={count}" for name in extras if (count := report.get(name)))


def _models_part(report: Mapping[str, Any]) -> str:
    models = report.get("models")
    if not models:
        return ""
    return " models: " + " ".join(f"{outcome}={count}" for outcome, count in models.items())


def write_report(path: Path, report: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(report) + "\n", encoding="utf-8")


class JsonLinesWriter:
    """Append-only JSON-lines file, created (truncated) on first write of the run."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._file: IO[str] | None = None
        self.count = 0

    def write(self, entry: Mapping[str, Any]) -> None:
        line = dumps(entry) + "\n"
        with self._lock:
            if self._file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = self.path.open("w", encoding="utf-8")
            self._file.write(line)
            self.count += 1

    def flush(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.flush()

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def run_file(path: Path, started: datetime.datetime, attempt: int = 1) -> Path:
    """`dead-letter.jsonl` started at 23:00:00 UTC -> `dead-letter-20261201T230000Z.jsonl`
    (then `-2`, `-3`... if two runs start in the same second)."""
    stamp = started.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    suffix = "" if attempt == 1 else f"-{attempt}"
    return path.with_name(f"{path.stem}-{stamp}{suffix}{path.suffix}")


class RunFileWriter(JsonLinesWriter):
    """A JSON-lines file of this run only, beside `path`: created on first write, named with
    the run's start time, never overwriting an earlier run's file."""

    def __init__(self, path: Path, started: datetime.datetime) -> None:
        super().__init__(path)
        self.base = path
        self._started = started
        self.written: Path | None = None

    def write(self, entry: Mapping[str, Any]) -> None:
        with self._lock:
            if self._file is None:
                self.base.parent.mkdir(parents=True, exist_ok=True)
                attempt = 1
                while True:
                    candidate = run_file(self.base, self._started, attempt)
                    try:
                        self._file = candidate.open("x", encoding="utf-8")
                        break
                    except FileExistsError:
                        attempt += 1
                self.path = self.written = candidate
        super().write(entry)


def dead_letter(
    stream: str,
    identifier: str | None,
    reason: str,
    *,
    status_code: int | None,
    message: str,
    errors: list[Any] | None,
    record: Mapping[str, Any] | None,
    payload: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """One dead-letter entry; `reason` is rejected_by_pim, mapping_error, retries_exhausted,
    media_error, association_error or unknown_category."""
    return {
        "stream": stream,
        "identifier": identifier,
        "reason": reason,
        "status_code": status_code,
        "message": message,
        "errors": errors or [],
        "record": record,
        "payload": payload,
        "at": datetime.datetime.now(tz=datetime.UTC).isoformat(timespec="seconds"),
    }
