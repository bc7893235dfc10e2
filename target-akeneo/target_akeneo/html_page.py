"""The frame of the target's HTML pages (change preview, run report): one self-contained file.

Styles and scripts are inline and nothing is fetched, so a page opens from disk, offline,
and can be mailed or archived as is. Data a script renders goes in a
`<script type="application/json">` block, never into markup.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from target_akeneo.report import dumps

escape = html.escape

STYLE = """
:root { color-scheme: light; --line: #d6dbe1; --muted: #5b6570; }
* { box-sizing: border-box; }
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d252c; background: #f6f7f9; }
header { background: #2b3a4a; color: #fff; padding: 12px 20px; }
header h1 { font-size: 18px; margin: 0; }
header p { margin: 2px 0 0; color: #c9d3dd; font-size: 12px; }
main { padding: 12px 20px; }
.counts { display: flex; flex-wrap: wrap; gap: 8px; margin: 0 0 12px; padding: 0; }
.counts li { list-style: none; background: #fff; border: 1px solid var(--line);
  border-radius: 6px; padding: 6px 12px; min-width: 96px; }
.counts b { display: block; font-size: 20px; }
.counts span { color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left;
  vertical-align: top; }
th { background: #eef1f4; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.badge { border-radius: 10px; padding: 1px 8px; font-size: 12px; white-space: nowrap; }
.new { background: #dff3e4; } .changed { background: #fff1cc; }
.unchanged { background: #eceff2; } .refused { background: #fbdcdc; }
.cur { color: #8a1c1c; } .sent { color: #135c2a; }
code, .mono { font-family: ui-monospace, monospace; font-size: 12px; }
.muted { color: var(--muted); }
section { margin: 0 0 16px; }
h2 { font-size: 16px; margin: 16px 0 8px; }
"""


def _script_json(value: Any) -> str:
    """JSON safe inside a <script> element (`</script>` or `<!--` cannot end it)."""
    return dumps(value).replace("<", "\\u003c")


def write_page(
    path: Path,
    *,
    title: str,
    subtitle: str,
    body: str,
    style: str = "",
    script: str = "",
    data: tuple[str, Iterable[Any]] | None = None,
) -> Path:
    """Write the page atomically (a reader never sees half a page). `data` is an element id
    and the items of a JSON array, written one by one so they need not be in memory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    with partial.open("w", encoding="utf-8") as out:
        out.write(
            "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
            "<meta name=viewport content='width=device-width, initial-scale=1'>"
            f"<title>{escape(title)}</title><style>{STYLE}{style}</style></head><body>"
            f"<header><h1>{escape(title)}</h1><p>{escape(subtitle)}</p></header>"
            f"<main>{body}</main>"
        )
        if data is not None:
            _write_array(out, *data)
        if script:
            out.write(f"<script>{script}</script>")
        out.write("</body></html>\n")
    os.replace(partial, path)
    return path


def _write_array(out: IO[str], element_id: str, items: Iterable[Any]) -> None:
    out.write(f'<script type="application/json" id="{element_id}">[')
    for number, item in enumerate(items):
        out.write(("," if number else "") + _script_json(item) + "\n")
    out.write("]</script>")


def counts_list(counts: Iterable[tuple[str, int]], *, element_id: str = "counts") -> str:
    """The tiles of counts at the top of a page; `data-count` names each for tests."""
    tiles = "".join(
        f'<li data-count="{escape(name)}"><b>{value}</b><span>{escape(name)}</span></li>'
        for name, value in counts
    )
    return f'<ul class=counts id="{element_id}">{tiles}</ul>'


def pretty(value: Any) -> str:
    """A value as a cell shows it: text as is, anything else as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
