"""One large local file read by several processes at once (setting ``processes``).

Parsing is about 40% of the tap's time per record and happens in libxml2, which holds the
GIL: threads cannot overlap it with the Python work of converting and encoding records.
So each of N processes parses the WHOLE file (the cheap part), but converts and encodes
only its share of the records: record elements are numbered in document order and cut into
blocks of ``BLOCK_RECORDS``, and block b belongs to process b % N. The tap's own process is
number 0; the others are forked and send each finished block (its encoded RECORD lines and
counts) through a pipe. Process 0 writes the blocks strictly in order, so the output is the
one a single process writes, and an error (malformed XML, a value that does not convert)
stops it after exactly the records a single process would have emitted.

Each process opens the file itself after the fork, so nothing but the pipes is shared.
A process that dies without sending its block fails the run; nothing is skipped silently.
"""

from __future__ import annotations

import contextlib
import os
import signal
import struct
import sys
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

import msgspec
from lxml import etree

from tap_erp_xml.errors import SourceError, TapErpXmlError, ValueConversionError, XmlError
from tap_erp_xml.records import RecordBuilder, RecordRules, SyncCounts, larger

BLOCK_RECORDS = 256
PIPE_BYTES = 1 << 20  # lets a process run ~15 blocks ahead of the writer
_HEADER = struct.Struct("!QQ")
_F_SETPIPE_SZ = 1031  # Linux fcntl; elsewhere the default pipe size is kept
_ERRORS: dict[str, type[TapErpXmlError]] = {
    "value": ValueConversionError,
    "xml": XmlError,
    "source": SourceError,
}

RecordWriter = Callable[[dict[str, Any]], None]


@dataclass
class Progress:
    """Record elements seen and the largest replication value written, kept up to date so
    that a failing file still bookmarks what was emitted before the failure."""

    found: int = 0
    top: Any = None


def available_cpus() -> int:
    """CPUs this process may run on (its affinity, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class FileJob:
    """Everything each process needs to read its share of one file."""

    name: str
    modified: str | None
    elements: Callable[[], Iterator[etree._Element]]  # opens the file, yields record elements
    rules: RecordRules
    new_writer: Callable[[bytearray], RecordWriter]  # RECORD lines appended to a buffer


class _Frame(msgspec.Struct):
    """What a process says about one of its blocks; its RECORD lines follow."""

    block: int
    emitted: int
    skipped: int
    filtered: int
    top: Any = None
    error: str | None = None
    kind: str | None = None


@dataclass
class _Child:
    pid: int
    pipe: IO[bytes]


def read_file(
    job: FileJob,
    processes: int,
    write: RecordWriter,
    write_lines: Callable[[bytes], None],
    counts: SyncCounts,
    progress: Progress,
) -> None:
    """Read one file with ``processes`` processes, counting into ``counts`` and ``progress``.

    ``write`` takes this process's records, ``write_lines`` the other processes' encoded
    lines; both must already have written everything queued before (the caller flushes
    stdout first, or a forked process would write its copy of the buffer again).
    """
    children: list[_Child] = []
    try:
        for index in range(1, processes):
            children.append(_fork(job, index, processes, children))
        _lead(job, processes, children, write, write_lines, counts, progress)
    finally:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid, signal.SIGKILL)
            os.waitpid(child.pid, 0)
            child.pipe.close()


def _fork(job: FileJob, index: int, processes: int, earlier: list[_Child]) -> _Child:
    read_end, write_end = os.pipe()
    with contextlib.suppress(OSError):
        import fcntl

        fcntl.fcntl(write_end, _F_SETPIPE_SZ, PIPE_BYTES)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(read_end)
            for child in earlier:
                child.pipe.close()
            with os.fdopen(write_end, "wb") as out:
                _follow(job, index, processes, out)
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stderr.flush()
            os._exit(code)  # never run the parent's exit handlers or flush its stdout
    os.close(write_end)
    return _Child(pid, os.fdopen(read_end, "rb"))


def _follow(job: FileJob, index: int, processes: int, out: IO[bytes]) -> None:
    """A forked process: parse everything, convert and send the blocks it owns."""
    counts = SyncCounts()
    builder = RecordBuilder(job.rules, job.name, job.modified, counts)
    payload = bytearray()
    write: RecordWriter | None = None
    block = -1

    def send(error: TapErpXmlError | None = None) -> None:
        kind = None
        if error is not None:
            kind = next(k for k, cls in _ERRORS.items() if isinstance(error, cls))
        frame = _Frame(
            block,
            counts.emitted,
            counts.skipped_invalid,
            counts.filtered,
            builder.top,
            None if error is None else str(error),
            kind,
        )
        meta = msgspec.json.encode(frame)
        out.write(_HEADER.pack(len(meta), len(payload)))
        out.write(meta)
        out.write(payload)
        out.flush()
        payload.clear()
        counts.emitted = counts.skipped_invalid = counts.filtered = 0
        builder.top = None

    seen = 0
    try:
        for elem in job.elements():
            if not seen % BLOCK_RECORDS:
                if write is not None:
                    send()
                block = seen // BLOCK_RECORDS
                write = job.new_writer(payload) if block % processes == index else None
            seen += 1
            if write is not None:
                record = builder.build(elem)
                if record is not None:
                    write(record)
    except (ValueConversionError, XmlError, SourceError) as exc:
        if write is not None:
            send(exc)
        return
    if write is not None:
        send()


def _lead(
    job: FileJob,
    processes: int,
    children: list[_Child],
    write: RecordWriter,
    write_lines: Callable[[bytes], None],
    counts: SyncCounts,
    progress: Progress,
) -> None:
    """Process 0: convert its own blocks, and write every block in document order."""
    builder = RecordBuilder(job.rules, job.name, job.modified, counts)
    failure: list[TapErpXmlError] = []
    written = 0  # the blocks before this one are written
    seen = 0
    own = False
    try:
        for elem in _until_error(job.elements(), failure):
            if not seen % BLOCK_RECORDS:
                block = seen // BLOCK_RECORDS
                own = block % processes == 0
                if own:
                    _drain(children, processes, written, block, write_lines, counts, progress)
                    written = block + 1
            seen += 1
            if own:
                record = builder.build(elem)
                if record is not None:
                    write(record)
        blocks = -(-seen // BLOCK_RECORDS)
        _drain(children, processes, written, blocks, write_lines, counts, progress)
    finally:
        progress.found = seen
        progress.top = larger(progress.top, builder.top)
    if failure:
        raise failure[0]


def _until_error(
    elements: Iterator[etree._Element], failure: list[TapErpXmlError]
) -> Iterator[etree._Element]:
    """The elements up to a parse or read error, kept to be raised once earlier blocks are out."""
    try:
        yield from elements
    except (XmlError, SourceError) as exc:
        failure.append(exc)


def _drain(
    children: list[_Child],
    processes: int,
    start: int,
    stop: int,
    write_lines: Callable[[bytes], None],
    counts: SyncCounts,
    progress: Progress,
) -> None:
    """Write the other processes' blocks in ``[start, stop)``."""
    for block in range(start, stop):
        owner = block % processes
        if owner == 0:
            continue
        frame, lines = _receive(children[owner - 1], block)
        write_lines(lines)
        counts.emitted += frame.emitted
        counts.skipped_invalid += frame.skipped
        counts.filtered += frame.filtered
        progress.top = larger(progress.top, frame.top)
        if frame.error is not None:
            raise _ERRORS[frame.kind or "source"](frame.error)


def _receive(child: _Child, block: int) -> tuple[_Frame, bytes]:
    header = child.pipe.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise TapErpXmlError(
            f"parsing process {child.pid} ended before sending record block {block}; "
            "see its error above (set processes: 1 to read files in one process)"
        )
    meta_size, lines_size = _HEADER.unpack(header)
    frame = msgspec.json.decode(child.pipe.read(meta_size), type=_Frame)
    lines = child.pipe.read(lines_size)
    if frame.block != block or len(lines) != lines_size:
        raise TapErpXmlError(
            f"parsing process {child.pid} sent block {frame.block} instead of {block}"
        )
    return frame, lines
