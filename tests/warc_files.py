"""WARC files for the tests and the benchmark, written with warcio's WARCWriter (the reference).

:func:`write_warc` writes :class:`Rec` entries (response, revisit, request, resource,
warcinfo, raw bytes) to a WARC, gzipped per record or plain, WARC/1.0 or 1.1, and returns
each entry's offset in the file. Raw entries let a test put a corrupt gzip member between
two good records.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter


@dataclass
class Rec:
    """One entry of a test WARC: a record to write, or ``raw`` bytes written as they are."""

    uri: str = ""
    body: bytes = b""
    kind: str = "response"
    content_type: str = "text/html; charset=utf-8"
    date: str = "2024-05-01T12:00:00Z"
    status: str = "200 OK"
    protocol: str = "HTTP/1.1"
    http_headers: list[tuple[str, str]] = field(default_factory=list)
    warc_headers: dict[str, str] = field(default_factory=dict)
    #: the payload as sent on the wire (chunked or gzip'd); ``body`` then is what it decodes to
    wire_body: bytes | None = None
    raw: bytes | None = None


def chunked(data: bytes, size: int = 50) -> bytes:
    """``data`` in HTTP/1.1 chunked transfer coding."""
    out = bytearray()
    for start in range(0, len(data), size):
        piece = data[start : start + size]
        out += f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    return bytes(out + b"0\r\n\r\n")


def corrupt_gzip_member() -> bytes:
    """A gzip member whose header is good and whose deflate data is not."""
    good = gzip.compress(b"WARC/1.0\r\nWARC-Type: response\r\n" + b"x" * 2000, mtime=0)
    return good[:20] + b"\xff" * 40 + good[60:]


def write_warc(
    path: Path, records: Sequence[Rec], *, gzip_records: bool = True, version: str = "1.1"
) -> list[int]:
    """Write ``records`` to ``path``; return the byte offset where each one starts."""
    offsets: list[int] = []
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=gzip_records, warc_version=version)
        for rec in records:
            offsets.append(out.tell())
            if rec.raw is not None:
                out.write(rec.raw)
                continue
            writer.write_record(_record(writer, rec))
    return offsets


def _record(writer: WARCWriter, rec: Rec) -> object:
    warc_headers = {"WARC-Date": rec.date, **rec.warc_headers}
    if rec.kind == "warcinfo":
        return writer.create_warcinfo_record(path_name(rec.uri), {"software": "tests"})
    if rec.kind == "resource":
        return writer.create_warc_record(
            rec.uri,
            "resource",
            payload=io.BytesIO(rec.body),
            length=len(rec.body),
            warc_content_type=rec.content_type,
            warc_headers_dict=warc_headers,
        )
    if rec.kind == "request":
        headers = StatusAndHeaders(
            f"GET / {rec.protocol}", [("Host", "example.com")], is_http_request=True
        )
        return writer.create_warc_record(
            rec.uri,
            "request",
            payload=io.BytesIO(b""),
            length=0,
            http_headers=headers,
            warc_headers_dict=warc_headers,
        )
    wire = rec.body if rec.wire_body is None else rec.wire_body
    headers_list = [("Content-Type", rec.content_type), *rec.http_headers]
    if not any(name.lower() == "transfer-encoding" for name, _ in headers_list):
        headers_list.append(("Content-Length", str(len(wire))))
    http = StatusAndHeaders(rec.status, headers_list, protocol=rec.protocol)
    return writer.create_warc_record(
        rec.uri,
        rec.kind,
        payload=io.BytesIO(wire),
        http_headers=http,
        warc_headers_dict=warc_headers,
        length=len(wire),
    )


def path_name(uri: str) -> str:
    """A warcinfo record's file name."""
    return uri or "test.warc.gz"
