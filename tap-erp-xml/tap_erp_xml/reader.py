"""Safe, constant-memory streaming of record elements out of one XML byte stream.

Parser options: no network, no DTD loading or validation, libxml2's size and depth limits
kept (``huge_tree=False``). Internal entities are expanded (``resolve_entities="internal"``)
because leaving them unexpanded silently drops their text from values, and libxml2's
amplification limit turns billion-laughs and quadratic blow-up into a parse error.
External entities are never loaded; a DOCTYPE declaring one is refused outright.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Collection, Iterator, Sequence
from typing import IO, Any, TypeAlias
from xml.parsers import expat

from lxml import etree

from tap_erp_xml.errors import SourceError, XmlError
from tap_erp_xml.paths import RecordPath, tag_matches

# lxml names its element class with an underscore; it is the type of every element.
Element: TypeAlias = etree._Element  # noqa: SLF001
_POSITION_SUFFIX = re.compile(r"(, line \d+, column \d+)+\s*(\(.*\))?$")


def _reason(exc: etree.XMLSyntaxError) -> str:
    text = str(exc.msg or exc)
    return _POSITION_SUFFIX.sub("", text).strip() or type(exc).__name__


def _ancestors_match(path: RecordPath, elem: Element) -> bool:
    node = elem.getparent()
    for pattern in reversed(path.ancestors):
        if node is None or not tag_matches(pattern, node.tag):
            return False
        node = node.getparent()
    return not path.absolute or node is None


class RecordReader:
    """Yields the record elements of one file; each is freed once the caller moves on.

    Given several record paths (a preset reading RSS and Atom alike), an element is a
    record when one of them matches; ``matches`` says which.
    """

    def __init__(self, record_paths: Sequence[RecordPath], encoding: str | None) -> None:
        self._paths = tuple(record_paths)
        self._tags = sorted({path.tag for path in self._paths})
        self._encoding = encoding
        #: Clark tag of the root element of the document ``records`` last read to its end.
        self.last_root: str | None = None

    def _matching(self, elem: Element) -> int | None:
        """The index of the first record path that matches ``elem``, or None."""
        for index, path in enumerate(self._paths):
            if tag_matches(path.tag, elem.tag) and _ancestors_match(path, elem):
                return index
        return None

    def records(self, stream: IO[bytes], name: str) -> Iterator[Element]:
        """Stream matching elements (see ``matches``)."""
        for _index, elem in self.matches(stream, name):
            yield elem

    def matches(self, stream: IO[bytes], name: str) -> Iterator[tuple[int, Element]]:
        """Stream (record path index, element); raise ``XmlError`` as
        ``name:line:column: reason`` (``SourceError`` when the bytes cannot be read or
        decompressed)."""
        parser = etree.iterparse(
            stream,
            events=("end",),
            tag=self._tags[0] if len(self._tags) == 1 else self._tags,
            encoding=self._encoding,
            resolve_entities="internal",
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_blank_text=True,
            remove_comments=True,
            remove_pis=True,
        )
        self.last_root = None
        checked_dtd = False
        external_dtd: str | None = None
        verified_parent: Element | None = None
        verified, verified_tag = 0, ""
        # With several record tags, siblings of one parent may be records of different paths.
        several = len(self._tags) > 1
        try:
            for _event, elem in parser:
                if not checked_dtd:
                    _refuse_external_entities(elem, name)
                    external_dtd = elem.getroottree().docinfo.system_url
                    checked_dtd = True
                parent = elem.getparent()
                if (
                    parent is not verified_parent
                    or parent is None
                    or (several and elem.tag != verified_tag)
                ):
                    index = self._matching(elem)
                    if index is None:
                        continue
                    verified_parent, verified, verified_tag = parent, index, str(elem.tag)
                if external_dtd is not None:
                    _refuse_undefined_entities(parser.error_log, name, external_dtd)
                yield verified, elem
                elem.clear(keep_tail=False)
                if parent is not None:
                    while elem.getprevious() is not None:
                        del parent[0]
            if not checked_dtd and parser.root is not None:
                _refuse_external_entities(parser.root, name)
            if parser.root is not None:
                self.last_root = str(parser.root.tag)
        except (OSError, EOFError, zlib.error) as exc:
            raise SourceError(f"{name}: cannot read: {type(exc).__name__}: {exc}") from None
        except etree.XMLSyntaxError as exc:
            line, column = exc.position if exc.position else (0, 0)
            reason = _reason(exc)
            if line == 0:
                line, column, reason = 1, 1, f"empty document ({reason})"
            raise XmlError(f"{name}:{line}:{column}: {reason}") from None

    def positions(self, stream: IO[bytes], ordinals: Collection[int]) -> dict[int, tuple[int, int]]:
        """Line and column (1-based) of the start tags of records, by ordinal (1-based, in
        the order ``records`` yields them: by end tag).

        For error messages only, never per record: lxml gives an element's line but no
        column, useless in an export written on one line; expat, run here as a second pass
        up to the last wanted record, reports both. Records it cannot place are left out.
        """
        parser = expat.ParserCreate(self._encoding, namespace_separator="}")
        open_tags: list[tuple[str, int, int]] = []
        found: dict[int, tuple[int, int]] = {}
        count = 0
        wanted = set(ordinals)

        def start(name: str, _attributes: Any) -> None:
            tag = "{" + name if "}" in name else name
            line, column = parser.CurrentLineNumber, parser.CurrentColumnNumber + 1
            open_tags.append((tag, line, column))

        def end(_name: str) -> None:
            nonlocal count
            tag, line, column = open_tags.pop()
            if any(
                tag_matches(path.tag, tag) and _open_ancestors_match(path, open_tags)
                for path in self._paths
            ):
                count += 1
                if count in wanted:
                    found[count] = (line, column)
                    if len(found) == len(wanted):
                        raise _Placed

        parser.StartElementHandler = start
        parser.EndElementHandler = end
        try:
            parser.ParseFile(stream)
        except _Placed:
            pass
        except (expat.ExpatError, OSError, EOFError, ValueError, LookupError, zlib.error):
            pass  # the caller falls back to the line lxml gave
        return found


def _open_ancestors_match(path: RecordPath, open_tags: list[tuple[str, int, int]]) -> bool:
    wanted = path.ancestors
    if len(open_tags) < len(wanted) or (path.absolute and len(open_tags) != len(wanted)):
        return False
    tags = [tag for tag, _line, _column in open_tags[len(open_tags) - len(wanted) :]]
    return all(tag_matches(p, t) for p, t in zip(wanted, tags, strict=True))


class _Placed(Exception):  # noqa: N818 - control flow, never seen by users
    """Every wanted record was found: stop the second pass."""


def _refuse_external_entities(elem: Element, name: str) -> None:
    """External entities are XXE vectors; unresolved they would silently drop text."""
    tree = elem.getroottree()
    dtd = tree.docinfo.internalDTD
    if dtd is None:
        return
    for entity in dtd.iterentities():
        if entity.system_url is not None:
            line = tree.getroot().sourceline or 1
            raise XmlError(
                f"{name}:{line}:1: the DOCTYPE declares external entity "
                f'"{entity.name}"; external entities are refused and never fetched'
            )


def _refuse_undefined_entities(log: etree._ListErrorLog, name: str, dtd_url: str) -> None:
    """With an external DTD (never loaded) libxml2 drops unknown entity references.

    It only warns, and fails at the end of the document, after the record would have been
    emitted with text missing; so a record is refused as soon as such a warning exists.
    Only documents that name an external DTD pay for this check.
    """
    for error in log:
        if error.type_name == "WAR_UNDECLARED_ENTITY":
            raise XmlError(
                f"{name}:{error.line}:{error.column}: {error.message.strip()} in the document; "
                f'its external DTD "{dtd_url}" is never loaded'
            )
