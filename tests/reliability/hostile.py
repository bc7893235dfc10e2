"""The hostile and broken XML corpus, generated into a folder per test run.

Every file has the acceptance shape, so anything the tap refuses is refused for the attack
or the damage, not for a wrong record path. A MARKER stands for secret content: it is in a
local file the entities point at, and in the DTD the loopback server would serve.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.reliability.loopback import CountingServer
from tests.reliability.products import NAMESPACE

MARKER = "TOP-SECRET-MARKER-7f3a9c"
BIG_TEXT_BYTES = 100 * 1024 * 1024


def product(sku: str, name: str = "Plain name", weight: str = "1,5") -> str:
    return (
        f'<Product id="1" status="active"><SKU>{sku}</SKU><Group>SHOES</Group>'
        f'<Name lang="en">{name}</Name><Weight unit="kg">{weight}</Weight>'
        "<UpdatedAt>2026-11-21T17:04:00Z</UpdatedAt></Product>\n"
    )


def export(products: str, doctype: str = "", declaration: str = "UTF-8") -> str:
    return (
        f'<?xml version="1.0" encoding="{declaration}"?>\n{doctype}'
        f'<ERPExport xmlns="{NAMESPACE}">\n<Products>\n{products}</Products>\n</ERPExport>\n'
    )


@dataclass(frozen=True)
class Case:
    """One file the tap must refuse with a clear line (`reason` is a word the line holds)."""

    name: str
    path: Path
    reason: str


def secret_file(folder: Path) -> Path:
    path = folder / "server-secret.txt"
    path.write_text(f"{MARKER}\n", encoding="utf-8")
    return path


def _write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / f"{name}.xml"
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    return path


def entity_attacks(folder: Path, server: CountingServer) -> list[Case]:
    """XXE through local files and URLs, parameter entities, external DTDs, XInclude."""
    folder.mkdir(parents=True, exist_ok=True)
    local = secret_file(folder).as_uri()
    url = server.url
    lol = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    blob = "A" * 100_000
    cases = {
        "xxe-local-file": (
            f'<!DOCTYPE ERPExport [<!ENTITY leak SYSTEM "{local}">]>\n',
            product("XXE-1", "&leak;"),
            "leak",
        ),
        "xxe-url": (
            f'<!DOCTYPE ERPExport [<!ENTITY leak SYSTEM "{url}/entity">]>\n',
            product("XXE-2", "&leak;"),
            "leak",
        ),
        "xxe-parameter-entity": (
            f'<!DOCTYPE ERPExport [<!ENTITY % remote SYSTEM "{url}/param.dtd"> %remote;]>\n',
            product("XXE-3", "&ext;"),
            "remote",
        ),
        "external-dtd": (
            f'<!DOCTYPE ERPExport SYSTEM "{url}/external.dtd">\n',
            product("DTD-1", "&ext;"),
            "ext",
        ),
        "billion-laughs": (
            f"<!DOCTYPE ERPExport [{lol}]>\n",
            product("LOL-1", "&lol9;"),
            "entity",
        ),
        "quadratic-blowup": (
            f'<!DOCTYPE ERPExport [<!ENTITY a "{blob}">]>\n',
            product("QUAD-1", "&a;" * 20_000),
            "entity",
        ),
    }
    return [
        Case(name, _write(folder, name, export(body, doctype)), reason)
        for name, (doctype, body, reason) in cases.items()
    ]


def broken_files(folder: Path) -> list[Case]:
    """Damaged documents: depth, truncation, bad markup, encoding and character errors."""
    folder.mkdir(parents=True, exist_ok=True)
    nested = "<Deep>" * 100_000 + "x" + "</Deep>" * 100_000
    whole = export(product("OK-1") + product("OK-2", "Trailläufer"))
    latin = export(product("ENC-1", "Trailläufer")).encode("latin-1")
    cases: dict[str, tuple[str | bytes, str]] = {
        "deep-nesting": (export(product("DEEP-1", nested)), "depth"),
        "truncated": (whole[: len(whole) // 2], "end"),
        "mismatched-tag": (export(product("BAD-1").replace("</Name>", "</Nam>")), "mismatch"),
        "unclosed-attribute": (
            export(product("BAD-2")).replace('status="active"', 'status="a'),
            "",
        ),
        "wrong-declared-encoding": (latin, "encoding"),
        "invalid-char-reference": (export(product("CHR-1", "bell &#1; here")), "Char"),
        "invalid-raw-byte": (export(product("CHR-2", "bell \x01 here")), "Char"),
    }
    return [
        Case(name, _write(folder, name, text), reason) for name, (text, reason) in cases.items()
    ]


def huge_text_node(folder: Path) -> Path:
    """A 100 MB text node, written in 1 MB chunks so the test never holds it in memory."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "huge-text-node.xml"
    head, tail = export(product("HUGE-1", "\x00")).split("\x00")
    chunk = "x" * (1024 * 1024)
    with path.open("w", encoding="utf-8") as out:
        out.write(head)
        for _ in range(BIG_TEXT_BYTES // len(chunk)):
            out.write(chunk)
        out.write(tail)
    return path
