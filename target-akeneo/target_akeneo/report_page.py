"""The HTML run report of a real run: its counts, the recent runs' history, its rejections.

Written beside the JSON run report at the end of each run that is not a dry run. The
history (the last `HISTORY_RUNS` runs against the same PIM) is a table of the state store
(`cache_path`); the rejections are read back from this run's own dead-letter file and grouped
by cause (Akeneo's message with its attribute), each product naming its line there. The
first `SHOWN` of a group open their dead-letter entry in the page itself (a browser cannot
jump to a line of a local JSON-lines file). Groups keep at most `LISTED` products each, so a
run rejecting everything stays small.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from target_akeneo.html_page import counts_list, escape, write_page
from target_akeneo.report import dumps

HISTORY_RUNS = 30
LISTED = 100  # products listed per rejection group (the count is always exact)
SHOWN = 10  # of those, the ones whose whole dead-letter entry is in the page
MAX_GROUPS = 200  # further causes are counted under one "other causes" group
SERIES = {  # the history chart's lines: count -> colour
    "created": "#2e8b57",
    "updated": "#1f6fb2",
    "unchanged": "#8a96a3",
    "rejected": "#c0392b",
    "retried": "#d68910",
}
_KEPT = (*SERIES, "received", "requests", "retries", "duration_seconds", "finished_at", "dry_run")

_TABLE = (
    "CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY, base_url TEXT NOT NULL,"
    " summary TEXT NOT NULL)"
)


class RunHistory:
    """The `runs` table of the state store: each real run's counts, the last 30 per PIM."""

    def __init__(self, path: Path, base_url: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), timeout=30)
        self._db.execute(_TABLE)
        self._db.commit()
        self._base_url = base_url

    def add(self, report: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Keep this run's summary; return the recent runs, oldest first, this one last."""
        summary = {key: report.get(key) for key in _KEPT}
        self._db.execute(
            "INSERT INTO runs (base_url, summary) VALUES (?, ?)", (self._base_url, dumps(summary))
        )
        self._db.execute(
            "DELETE FROM runs WHERE base_url = ? AND id NOT IN"
            " (SELECT id FROM runs WHERE base_url = ? ORDER BY id DESC LIMIT ?)",
            (self._base_url, self._base_url, HISTORY_RUNS),
        )
        self._db.commit()
        rows = self._db.execute(
            "SELECT summary FROM runs WHERE base_url = ? ORDER BY id", (self._base_url,)
        )
        return [json.loads(summary) for (summary,) in rows]

    def close(self) -> None:
        self._db.close()


@dataclass
class Group:
    """The rejections of one cause: how many, and the first `LISTED` of them."""

    cause: str
    count: int = 0
    # identifier, stream, line in the dead-letter file, the entry as indented JSON (the
    # first SHOWN of the group; "" for the rest)
    products: list[tuple[str, str, int, str]] = field(default_factory=list)


def cause_of(entry: Mapping[str, Any]) -> str:
    """Akeneo's message naming the attribute ("color: The PURPLE value is not in the color
    attribute option list."), else the entry's own message or reason."""
    errors = entry.get("errors") or []
    first = errors[0] if errors and isinstance(errors[0], Mapping) else None
    if first is not None and first.get("message"):
        where = first.get("attribute") or first.get("property")
        return f"{where}: {first['message']}" if where else str(first["message"])
    message = str(entry.get("message") or "")
    reason = str(entry.get("reason") or "rejected")
    return f"{reason}: {message}" if message else reason


def group_rejections(dead_letter_path: Path) -> list[Group]:
    """The dead-letter file's entries grouped by cause, the largest group first."""
    groups: dict[str, Group] = {}
    other = Group("other causes")
    for number, entry in _entries(dead_letter_path):
        cause = cause_of(entry)
        group = groups.get(cause)
        if group is None and len(groups) < MAX_GROUPS:
            group = groups[cause] = Group(cause)
        group = group or other
        group.count += 1
        if len(group.products) < LISTED:
            identifier = entry.get("identifier")
            shown = (
                json.dumps(entry, indent=2, ensure_ascii=False)
                if len(group.products) < SHOWN
                else ""
            )
            group.products.append(
                (str(identifier or "(no identifier)"), str(entry.get("stream")), number, shown)
            )
    found = sorted(groups.values(), key=lambda g: (-g.count, g.cause))
    return found + ([other] if other.count else [])


def _entries(path: Path) -> Iterator[tuple[int, Mapping[str, Any]]]:
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if line.strip():
                yield number, json.loads(line)


def write_report_page(
    path: Path, report: Mapping[str, Any], runs: Sequence[Mapping[str, Any]], base_url: str
) -> Path:
    tiles = counts_list(
        [
            (name, int(report.get(name) or 0))
            for name in ("received", "created", "updated", "unchanged", "rejected", "retried")
        ]
        + [("requests", int(report["requests"])), ("retries", int(report["retries"]))]
    )
    duration = float(report["duration_seconds"])
    dead = report.get("dead_letter_path")
    groups = group_rejections(Path(dead)) if dead else []
    body = (
        f"{tiles}<p id=duration>Duration {duration:.1f} s, {report['requests']} request(s)"
        f" ({report['product_requests']} for products), {report['retries']} retried.</p>"
        f"{_streams(report)}<h2>Recent runs</h2>{history_chart(runs)}"
        f"<h2>Rejections by cause</h2>{_groups(groups, path, dead)}"
    )
    return write_page(
        path,
        title="target-akeneo run report",
        subtitle=f"{base_url} — {report.get('finished_at') or ''}",
        body=body,
        style=_STYLE,
    )


def _streams(report: Mapping[str, Any]) -> str:
    names = ("received", "created", "updated", "unchanged", "rejected", "retried")
    head = "".join(f"<th>{name}</th>" for name in names)
    rows = "".join(
        f"<tr data-stream='{escape(stream)}'><td>{escape(stream)}</td>"
        + "".join(f"<td class=num>{counts.get(name, 0)}</td>" for name in names)
        + "</tr>"
        for stream, counts in sorted(report.get("streams", {}).items())
    )
    return f"<table id=streams><tr><th>stream</th>{head}</tr>{rows}</table>"


def _groups(groups: Sequence[Group], page: Path, dead: str | None) -> str:
    if not groups:
        return "<p id=no-rejections>Nothing was rejected.</p>"
    assert dead is not None
    href = escape(os.path.relpath(dead, page.parent))
    parts = [
        f"<p class=muted>Dead-letter file: <a id=dead-letter href='{href}'>{escape(dead)}</a></p>"
    ]
    for group in groups:
        listed = "".join(
            f"<tr data-id='{escape(key)}'><td class=mono>{escape(key)}</td>"
            f"<td>{escape(stream)}</td><td data-line={line}>{_entry(line, shown)}</td></tr>"
            for key, stream, line, shown in group.products
        )
        more = group.count - len(group.products)
        tail = f"<p class=muted>and {more} more in the dead-letter file</p>" if more > 0 else ""
        parts.append(
            f"<section class=group data-cause='{escape(group.cause)}'><h3>"
            f"<span class=cause>{escape(group.cause)}</span> — <b class=count>{group.count}</b>"
            f" product(s)</h3><table><tr><th>identifier</th><th>stream</th>"
            f"<th>dead letter</th></tr>{listed}</table>{tail}</section>"
        )
    return "".join(parts)


def _entry(line: int, shown: str) -> str:
    if not shown:
        return f"line {line}"
    return (
        f"<details><summary>line {line}</summary><pre class=entry>{escape(shown)}</pre></details>"
    )


def history_chart(runs: Sequence[Mapping[str, Any]], width: int = 640, height: int = 180) -> str:
    """An inline SVG line chart of the runs' counts, one line per series, oldest left."""
    left, bottom, top = 40, 20, 10
    peak = max([1, *(int(run.get(name) or 0) for run in runs for name in SERIES)])
    span = max(1, len(runs) - 1)

    def x(index: int) -> float:
        return left + (width - left - 10) * (index / span if len(runs) > 1 else 0.5)

    def y(value: int) -> float:
        return top + (height - top - bottom) * (1 - value / peak)

    parts = [
        f"<svg id=history xmlns='http://www.w3.org/2000/svg' width={width} height={height}"
        f" viewBox='0 0 {width} {height}' role=img aria-label='counts of the last"
        f" {len(runs)} runs' data-runs={len(runs)}>",
        f"<line x1='{left}' y1='{y(0)}' x2='{width - 10}' y2='{y(0)}' stroke='#999'/>",
        f"<text x='{x(0)}' y='{height - 4}' font-size='11'>{_day(runs[0]) if runs else ''}</text>",
        f"<text x='{x(span)}' y='{height - 4}' font-size='11' text-anchor='end'>"
        f"{_day(runs[-1]) if runs else ''}</text>",
        f"<text x={left - 4} y={y(peak) + 4} text-anchor=end font-size=11>{peak}</text>",
        f"<text x={left - 4} y={y(0) + 4} text-anchor=end font-size=11>0</text>",
    ]
    for name, colour in SERIES.items():
        points = [
            (x(i), y(int(run.get(name) or 0)), int(run.get(name) or 0))
            for i, run in enumerate(runs)
        ]
        line = " ".join(f"{px:.1f},{py:.1f}" for px, py, _ in points)
        parts.append(
            f"<g data-series={name}><polyline points='{line}' fill=none"
            f" stroke='{colour}' stroke-width='2'/>"
        )
        parts.extend(
            f"<circle cx='{px:.1f}' cy='{py:.1f}' r='3' fill='{colour}'>"
            f"<title>{name}: {value}</title></circle>"
            for px, py, value in points
        )
        parts.append("</g>")
    parts.append("</svg>")
    legend = "".join(
        f"<span class=key><i style='background:{colour}'></i>{name}</span>"
        for name, colour in SERIES.items()
    )
    return "".join(parts) + f"<div class=legend>{legend}</div>"


def _day(run: Mapping[str, Any]) -> str:
    """`2026-12-01 23:05` from a run's `finished_at`."""
    return escape(str(run.get("finished_at") or "")[:16].replace("T", " "))


_STYLE = """
.legend { font-size: 12px; margin: 4px 0 0; }
.legend .key { margin-right: 12px; }
.legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; }
pre.entry { white-space: pre-wrap; max-width: 60em; font-size: 12px; margin: 4px 0; }
section.group { background: #fff; border: 1px solid var(--line); border-radius: 6px;
  padding: 4px 12px 8px; }
section.group h3 { font-size: 14px; margin: 6px 0; }
#streams { width: auto; margin: 0 0 8px; }
svg#history { background: #fff; border: 1px solid var(--line); }
"""
