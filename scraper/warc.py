"""Reading WARC files: each record of a byte range as a :class:`WarcItem`, corrupt parts skipped.

A WARC (``.warc``, ``.warc.gz``; WARC/1.0 and 1.1, gzipped per record or plain) is a
source like a folder of pages: each ``response`` (or ``resource``) record with an HTML,
XHTML or plain-text payload is a page. Records are read with FastWARC (Rust), chosen by
measurement over warcio (``bench/bench_warc.py``). HTTP chunked transfer coding and
gzip/deflate content coding are undone here so that every caller gets the page's bytes.

:func:`iter_warc` reads the records that *start* in ``[start, end)``: a large gzipped WARC
is cut into byte ranges that workers read independently (:func:`plan_slices`); a range
that starts mid-record skips forward to the next gzip member that holds a WARC record.
A corrupt record or gzip member becomes a ``corrupt`` item (file and offset) and reading
goes on from the next good member; nothing here raises for bad data.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from fastwarc.warc import ArchiveIterator, WarcRecord, WarcRecordType

from scraper.model import pickled_by_fields

PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml", "text/plain"})
#: the head of a file that, with its path and size, identifies a WARC already read
HEAD_BYTES = 1 << 20
GZIP_MAGIC = b"\x1f\x8b\x08"
_SCAN_BYTES = 1 << 20
_MAX_BODY = 50_000_000  # a decoded payload larger than this is cut off (a gzip bomb)

ItemKind = Literal["page", "revisit", "skipped", "corrupt"]
_RECORD_TYPES = WarcRecordType.response | WarcRecordType.resource | WarcRecordType.revisit


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class WarcItem:
    """One record of a WARC, as the run needs it.

    ``page``: an HTML/text payload to parse (``body`` decoded). ``revisit``: the same
    payload as an earlier capture. ``skipped``: a response whose payload is not a page
    (``detail`` says why). ``corrupt``: bytes at ``offset`` that are not a readable record.
    ``offset``/``length`` locate the record in the file, as cc-index's file/offset/length.
    """

    kind: ItemKind
    offset: int
    length: int | None = None
    url: str | None = None
    fetched_at: str | None = None
    content_type: str | None = None
    http_status: int | None = None
    body: bytes | None = None
    truncated: str | None = None
    detail: str | None = None


def head_digest(path: Path) -> str:
    """SHA-256 of the file's first ``HEAD_BYTES`` (with size and path: a WARC's identity)."""
    with path.open("rb") as handle:
        return hashlib.sha256(handle.read(HEAD_BYTES)).hexdigest()


def plan_slices(path: Path, size: int, slice_bytes: int) -> list[tuple[int, int]]:
    """Byte ranges covering the file: one for a plain WARC, ``slice_bytes`` each if gzipped."""
    if size <= slice_bytes or not str(path).lower().endswith(".gz"):
        return [(0, size)]
    return [(start, min(start + slice_bytes, size)) for start in range(0, size, slice_bytes)]


def iter_warc(path: Path, start: int = 0, end: int | None = None) -> Iterator[WarcItem]:
    """The page, revisit, skipped and corrupt items of the records starting in ``[start, end)``.

    Raises ``OSError`` only when the file cannot be opened.
    """
    gzipped = str(path).lower().endswith(".gz")
    with path.open("rb") as handle:
        size = handle.seek(0, 2)
        end = size if end is None else min(end, size)
        position: int | None = start if start == 0 else _next_record(handle, start, size, gzipped)
        # Corrupt bytes are reported by the range that read the last good record before them
        # (or by the first range), so a corrupt stretch across ranges is reported once.
        owned = start == 0
        while position is not None and position < end:
            handle.seek(position)
            pending: tuple[WarcRecord, WarcItem | None] | None = None
            try:
                for record in ArchiveIterator(handle, parse_http=False):
                    offset = record.stream_pos
                    if pending is not None:
                        if pending[1] is not None:
                            yield _with_length(pending[1], offset - pending[0].stream_pos)
                        pending = None
                    if offset >= end:
                        return
                    owned = True
                    kind = record.record_type
                    pending = (record, _item(record, offset) if kind & _RECORD_TYPES else None)
                if pending is not None and pending[1] is not None:
                    yield _with_length(pending[1], _length(handle, pending[0], size, gzipped))
                return
            except (OSError, ValueError) as exc:
                bad_at = position
                if pending is not None:
                    length = _length(handle, pending[0], size, gzipped)
                    if pending[1] is not None:
                        yield _with_length(pending[1], length)
                    bad_at = pending[0].stream_pos + (length or 1)
                if owned:
                    yield WarcItem("corrupt", bad_at, detail=f"{type(exc).__name__}: {exc}")
                position = _next_record(handle, bad_at + 1, size, gzipped)


def _with_length(item: WarcItem | None, length: int | None) -> WarcItem:
    assert item is not None
    return WarcItem(
        item.kind,
        item.offset,
        length,
        item.url,
        item.fetched_at,
        item.content_type,
        item.http_status,
        item.body,
        item.truncated,
        item.detail,
    )


def _item(record: WarcRecord, offset: int) -> WarcItem:
    """What one record is; the payload is read (and decoded) only for pages."""
    headers = record.headers
    url = _target_uri(headers.get("WARC-Target-URI") or "")
    date = headers.get("WARC-Date")
    truncated = headers.get("WARC-Truncated")
    if record.record_type == WarcRecordType.revisit:
        return WarcItem("revisit", offset, url=url, fetched_at=date)
    status: int | None = None
    if record.record_type == WarcRecordType.resource:
        content_type = headers.get("Content-Type")
    else:
        record.parse_http()
        if not record.is_http_parsed:
            return WarcItem("skipped", offset, url=url, fetched_at=date, detail="no HTTP headers")
        parsed = record.http_headers
        status = parsed.status_code if parsed is not None else None
        content_type = parsed.get("Content-Type") if parsed is not None else None
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media and media not in PAGE_TYPES:
        return WarcItem(
            "skipped",
            offset,
            url=url,
            fetched_at=date,
            content_type=content_type,
            http_status=status,
            detail=f"not an article: {media}",
        )
    body = record.reader.read(_MAX_BODY)
    http = record.http_headers if record.is_http else None
    if http is not None:
        body = _decode_payload(
            body, http.get("Transfer-Encoding") or "", http.get("Content-Encoding") or ""
        )
    return WarcItem(
        "page",
        offset,
        url=url,
        fetched_at=date,
        content_type=content_type,
        http_status=status,
        body=body,
        truncated=truncated,
    )


def _target_uri(uri: str) -> str:
    """The record's URL: WARC/1.0 angle brackets dropped, ``http://`` added when schemeless."""
    uri = uri.strip().strip("<>").strip()
    if not uri or "://" in uri:
        return uri
    return f"http:{uri}" if uri.startswith("//") else f"http://{uri}"


def _decode_payload(body: bytes, transfer: str, encoding: str) -> bytes:
    """Undo chunked transfer coding, then gzip/deflate content coding (what is readable of it)."""
    if "chunked" in transfer.lower():
        body = _unchunk(body)
    coding = encoding.strip().lower()
    if coding in ("gzip", "x-gzip", "deflate"):
        wbits = 47 if coding != "deflate" else zlib.MAX_WBITS  # 47: gzip or zlib header
        decoder = zlib.decompressobj(wbits)
        try:
            return decoder.decompress(body, _MAX_BODY)
        except zlib.error:
            try:  # raw deflate, as some servers send for "deflate"
                return zlib.decompressobj(-zlib.MAX_WBITS).decompress(body, _MAX_BODY)
            except zlib.error:
                return body
    return body


def _unchunk(body: bytes) -> bytes:
    """The data of a chunked body; a body that is not well chunked is returned as it is."""
    out = bytearray()
    position = 0
    while position < len(body):
        line_end = body.find(b"\r\n", position)
        if line_end < 0:
            return body if not out else bytes(out)
        try:
            size = int(body[position:line_end].split(b";", 1)[0].strip() or b"x", 16)
        except ValueError:
            return body if not out else bytes(out)
        if size == 0:
            break
        start = line_end + 2
        out += body[start : start + size]
        position = start + size + 2
    return bytes(out)


def _length(handle: BinaryIO, record: WarcRecord, size: int, gzipped: bool) -> int | None:
    """How many bytes of the file the record at ``record.stream_pos`` takes."""
    start = record.stream_pos
    if not gzipped:
        return None
    handle.seek(start)
    decoder = zlib.decompressobj(31)
    read = 0
    while not decoder.eof:
        chunk = handle.read(_SCAN_BYTES)
        if not chunk:
            return None
        read += len(chunk)
        try:
            decoder.decompress(chunk)
        except zlib.error:
            return None
    return min(read - len(decoder.unused_data), size - start)


def _next_record(handle: BinaryIO, start: int, size: int, gzipped: bool) -> int | None:
    """The offset of the first record that starts at or after ``start``; ``None`` if none.

    Gzipped: a gzip member whose first bytes decompress to ``WARC/``. Plain: a line that
    begins with ``WARC/1.`` and follows a blank line (a record's end).
    """
    marker = GZIP_MAGIC if gzipped else b"\r\n\r\nWARC/1."
    skip = 0 if gzipped else 4
    position = start if gzipped else max(0, start - 4)
    while position < size:
        handle.seek(position)
        window = handle.read(_SCAN_BYTES + len(marker))
        found = window.find(marker)
        while found >= 0:
            candidate = position + found + skip
            if candidate >= start and (not gzipped or _starts_record(handle, candidate)):
                return candidate
            found = window.find(marker, found + 1)
        position += _SCAN_BYTES
    return None


def _starts_record(handle: BinaryIO, offset: int) -> bool:
    handle.seek(offset)
    try:
        head = zlib.decompressobj(31).decompress(handle.read(4096), 16)
    except zlib.error:
        return False
    return head.startswith(b"WARC/")
