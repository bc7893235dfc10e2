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
    """Per-stream counts; received = created + updated + unchanged + rejected (+ planned)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._started = clock()
        self._lock = threading.Lock()
        self.streams: dict[str, dict[str, int]] = {}

    def add(self, stream: str, outcome: str, count: int = 1) -> None:
        with self._lock:
            counts = self.streams.setdefault(stream, dict.fromkeys(OUTCOMES, 0))
            counts[outcome] = counts.get(outcome, 0) + count

    def total(self, outcome: str) -> int:
        with self._lock:
            return sum(counts.get(outcome, 0) for counts in self.streams.values())

    def to_dict(
        self, counters: ClientCounters, dead_letter_path: Path, *, dry_run: bool
    ) -> dict[str, Any]:
        report: dict[str, Any] = {outcome: self.total(outcome) for outcome in OUTCOMES}
        if not dry_run:
            report.pop("planned")
        report.update(
            requests=counters.requests,
            product_requests=counters.product_requests,
            retries=counters.retries,
            token_grants=counters.token_grants,
            concurrency=counters.concurrency.snapshot() if counters.concurrency else None,
            duration_seconds=round(self._clock() - self._started, 3),
            dead_letter_path=str(dead_letter_path),
            dry_run=dry_run,
            streams={name: dict(counts) for name, counts in self.streams.items()},
        )
        return report


def summary_line(report: Mapping[str, Any]) -> str:
    return (
        f"target-akeneo summary: received={report['received']} created={report['created']}"
        f" updated={report['updated']} unchanged={report['unchanged']}"
        f" rejected={report['rejected']} requests={report['requests']}"
        f" retries={report['retries']} duration={report['duration_seconds']:.1f}s"
    )


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
    """One dead-letter entry; `reason` is rejected_by_pim, mapping_error or retries_exhausted."""
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
