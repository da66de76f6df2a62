"""Read a response body with a cap on the *decoded* size (shared by resolve and fetch).

httpx's own decoders inflate a whole network chunk at once, so 64 KB of gzip bomb can
become gigabytes in one call. Here the raw bytes go through ``zlib`` with
``max_length``: no more than the cap is ever produced, whatever the compression ratio.
Only identity, gzip and deflate are decoded; those are the encodings the resolver
advertises in ``Accept-Encoding``.
"""

from __future__ import annotations

import zlib

import httpx

ACCEPT_ENCODING = "gzip, deflate"


class BodyTooLargeError(Exception):
    """The decoded body is longer than the cap (raised only when the caller needs it all)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"body longer than {limit} bytes")
        self.limit = limit


class _Inflater:
    """gzip (possibly several members) or deflate (zlib-wrapped or raw) with bounded output."""

    def __init__(self, encoding: str) -> None:
        self._gzip = encoding in ("gzip", "x-gzip")
        self._first = True
        self._obj = self._new()

    def _new(self) -> zlib._Decompress:
        return zlib.decompressobj(zlib.MAX_WBITS | 16 if self._gzip else zlib.MAX_WBITS)

    def decode(self, data: bytes, room: int) -> bytes:
        try:
            out = self._obj.decompress(data, room)
        except zlib.error:
            if self._gzip or not self._first:
                raise
            # deflate sent without its zlib header (common): retry as raw deflate
            self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
            out = self._obj.decompress(data, room)
        self._first = False
        if self._obj.eof and self._obj.unused_data and len(out) < room and self._gzip:
            rest = self._obj.unused_data
            self._obj = self._new()
            out += self.decode(rest, room - len(out))
        return out


async def read_capped(
    response: httpx.Response, limit: int, *, strict: bool = False
) -> tuple[bytes, bool]:
    """Read at most ``limit`` decoded bytes; return them and whether the body ended.

    With ``strict``, a longer body raises :class:`BodyTooLargeError` instead. An
    undecodable body raises ``httpx.DecodingError``. The response is not closed here.
    """
    encodings = [
        e.strip().lower()
        for e in response.headers.get("content-encoding", "").split(",")
        if e.strip() and e.strip().lower() != "identity"
    ]
    if len(encodings) > 1 or (encodings and encodings[0] not in ("gzip", "x-gzip", "deflate")):
        raise httpx.DecodingError(f"unsupported Content-Encoding {encodings!r}")
    if response.is_stream_consumed:  # built already read (httpx.Response(content=...))
        data = response.content
        if strict and len(data) > limit:
            raise BodyTooLargeError(limit)
        return data[:limit], len(data) <= limit
    inflater = _Inflater(encodings[0]) if encodings else None
    out = bytearray()
    try:
        # the transport's stream itself: aiter_raw() would add a generator layer per read
        async for raw in response.stream:  # type: ignore[union-attr]
            room = limit - len(out)
            out += inflater.decode(raw, room + 1) if inflater is not None else raw[: room + 1]
            if len(out) > limit:
                if strict:
                    raise BodyTooLargeError(limit)
                return bytes(out[:limit]), False
    except zlib.error as exc:
        raise httpx.DecodingError(f"cannot decode body: {exc}") from exc
    return bytes(out), True
