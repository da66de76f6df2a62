"""One HTTP/1.1 client connection on asyncio's protocol API (used by :mod:`scraper.transport`).

Why not httpcore: on this workload (thousands of short redirect exchanges at once) its
pool and h11 state machine cost about a millisecond of CPU per request; this connection
costs a few tens of microseconds. It speaks only what a redirect follower and a page
fetcher need: one request at a time per connection (no pipelining), bodies framed by
Content-Length, chunked encoding or connection close, interim 1xx answers skipped.
It is lenient where browsers are (bare LF line ends, junk header lines skipped, folded
lines joined) and strict where smuggling lives (conflicting Content-Length is an error).

Flow control: past ``HIGH_WATER`` buffered bytes the socket stops being read until the
consumer takes them, so a server pushing 50 MB fills socket buffers, not memory.
"""

from __future__ import annotations

import asyncio
from typing import Literal, cast

import httpx

MAX_HEAD_BYTES = 64 * 1024
MAX_CHUNK_LINE = 4096
HIGH_WATER = 256 * 1024
MAX_READ = 64 * 1024
# On an early close, bytes already buffered are drained (no waiting) so a short
# redirect body does not cost the connection; beyond this, closing is cheaper.
DRAIN_LIMIT = 64 * 1024

Framing = Literal["none", "length", "chunked", "close"]
ChunkState = Literal["size", "data", "data-end", "trailer", "done"]
Head = tuple[bytes, int, bytes, list[tuple[bytes, bytes]]]


class StaleConnectionError(httpx.RemoteProtocolError):
    """A reused keep-alive connection closed before answering (the request may be resent)."""


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(httpx.ReadTimeout("read timed out"))


def parse_head(head: bytes) -> Head:
    """Split a response head into (version, status, reason, headers)."""
    lines = head.split(b"\n")
    status_line = lines[0].rstrip(b"\r")
    parts = status_line.split(None, 2)
    if (
        len(parts) < 2
        or not parts[0].startswith(b"HTTP/")
        or len(parts[1]) != 3
        or not parts[1].isdigit()
    ):
        raise httpx.RemoteProtocolError(f"bad status line {status_line[:80]!r}")
    headers: list[tuple[bytes, bytes]] = []
    for raw in lines[1:]:
        line = raw.rstrip(b"\r")
        if not line:
            continue
        if line[:1] in (b" ", b"\t"):
            if headers:  # obsolete line folding: continue the previous value
                name, value = headers[-1]
                headers[-1] = (name, value + b" " + line.strip())
            continue
        name, sep, value = line.partition(b":")
        name = name.strip()
        if not sep or not name or b" " in name:
            continue  # junk line: browsers skip it, so do we
        headers.append((name, value.strip()))
    return parts[0], int(parts[1]), parts[2] if len(parts) > 2 else b"", headers


class H1Connection(asyncio.Protocol):
    """A client connection: write a request, read the head, then the body in pieces."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._waiter: asyncio.Future[None] | None = None
        self._drain_waiter: asyncio.Future[None] | None = None
        self._eof = False
        self._closed = False
        self._reading_paused = False
        self._writing_paused = False
        self._received = False
        self._framing: Framing = "none"
        self._remaining = 0
        self._chunk: ChunkState = "done"
        self.keep_alive = False
        self.body_done = True
        self.idle_since = self._loop.time()
        self.requests = 0

    # -- asyncio.Protocol callbacks -------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport."""
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        """Buffer bytes; stop reading past the high-water mark."""
        self._buffer += data
        self._received = True
        if not self._reading_paused and len(self._buffer) > HIGH_WATER and self._transport:
            self._transport.pause_reading()
            self._reading_paused = True
        self._wake()

    def eof_received(self) -> bool:
        """The server finished sending: wake the reader, let the transport close."""
        self._eof = True
        self._wake()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        """The connection is gone: wake everyone waiting."""
        self._eof = self._closed = True
        self._wake()
        if self._drain_waiter is not None and not self._drain_waiter.done():
            self._drain_waiter.set_result(None)

    def pause_writing(self) -> None:
        """The kernel buffer is full: writers wait."""
        self._writing_paused = True

    def resume_writing(self) -> None:
        """Writers may go on."""
        self._writing_paused = False
        if self._drain_waiter is not None and not self._drain_waiter.done():
            self._drain_waiter.set_result(None)

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- state -------------------------------------------------------------------
    @property
    def is_reusable(self) -> bool:
        """Idle, open, and nothing unexpected buffered: safe for the next request."""
        transport = self._transport
        return (
            self.keep_alive
            and self.body_done
            and not self._eof
            and not self._buffer
            and transport is not None
            and not transport.is_closing()
        )

    def close(self) -> None:
        """Close politely (used after a complete exchange)."""
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        """Drop the connection now, unread bytes and all."""
        if self._transport is not None:
            self._transport.abort()

    async def _fill(self, seconds: float | None) -> None:
        """Wait for more bytes or the end of the stream; ``httpx.ReadTimeout`` after ``seconds``."""
        if self._reading_paused and self._transport is not None:
            self._reading_paused = False
            self._transport.resume_reading()
        waiter: asyncio.Future[None] = self._loop.create_future()
        self._waiter = waiter
        handle = None if seconds is None else self._loop.call_later(seconds, _expire, waiter)
        try:
            await waiter
        finally:
            self._waiter = None
            if handle is not None:
                handle.cancel()

    # -- one exchange ------------------------------------------------------------
    async def write(self, data: bytes, seconds: float | None) -> None:
        """Send request bytes (waits only if the kernel buffer is full)."""
        if self._closed or self._transport is None or self._transport.is_closing():
            raise StaleConnectionError("connection closed before the request was sent")
        self.requests += 1
        self._received = False
        self._transport.write(data)
        if self._writing_paused:
            waiter: asyncio.Future[None] = self._loop.create_future()
            self._drain_waiter = waiter
            try:
                async with asyncio.timeout(seconds):
                    await waiter
            except TimeoutError:
                raise httpx.WriteTimeout("write timed out") from None
            finally:
                self._drain_waiter = None

    async def read_head(self, method: str, seconds: float | None) -> Head:
        """Read the final response head (interim 1xx skipped) and set up body framing."""
        while True:
            buffer = self._buffer
            crlf, lf = buffer.find(b"\n\r\n"), buffer.find(b"\n\n")
            if crlf >= 0 and (lf < 0 or crlf < lf):
                end, skip = crlf, 3
            else:
                end, skip = lf, 2
            if end >= 0:
                head = bytes(buffer[:end])
                del buffer[: end + skip]
                parsed = parse_head(head)
                if 100 <= parsed[1] < 200 and parsed[1] != 101:
                    continue
                self._start_body(method, parsed)
                return parsed
            if len(buffer) > MAX_HEAD_BYTES:
                raise httpx.RemoteProtocolError("response head too large")
            if self._eof:
                if not self._received and self.requests > 1:
                    raise StaleConnectionError("kept-alive connection closed by the server")
                raise httpx.RemoteProtocolError("server closed the connection without answering")
            await self._fill(seconds)

    def _start_body(self, method: str, head: Head) -> None:
        version, status, _, headers = head
        transfer: bytes | None = None
        lengths: list[bytes] = []
        tokens: set[bytes] = set()
        for name, value in headers:
            key = name.lower()
            if key == b"transfer-encoding":
                transfer = value.lower()
            elif key == b"content-length":
                lengths.extend(v.strip() for v in value.split(b","))
            elif key == b"connection":
                tokens.update(v.strip().lower() for v in value.split(b","))
        if version == b"HTTP/1.1":
            self.keep_alive = b"close" not in tokens
        else:
            self.keep_alive = b"keep-alive" in tokens
        self.body_done = False
        if method == "HEAD" or status in (204, 304) or status < 200:
            self._framing, self.body_done = "none", True
        elif transfer is not None:
            if transfer.rsplit(b",", 1)[-1].strip() == b"chunked":
                self._framing, self._chunk = "chunked", "size"
            else:
                self._framing, self.keep_alive = "close", False
        elif lengths:
            if len(set(lengths)) != 1 or not lengths[0].isdigit():
                raise httpx.RemoteProtocolError(f"bad Content-Length {lengths!r}")
            self._framing, self._remaining = "length", int(lengths[0])
            self.body_done = self._remaining == 0
        else:
            self._framing, self.keep_alive = "close", False

    async def read_body(self, seconds: float | None) -> bytes:
        """The next piece of the body, ``b""`` at its end."""
        while True:
            piece = self._take()
            if piece is not None:
                return piece
            if self._eof:
                if self._framing == "close":
                    self.body_done = True
                    return b""
                raise httpx.RemoteProtocolError("connection closed before the body ended")
            await self._fill(seconds)

    def drain_buffered(self) -> bool:
        """Consume the rest of the body if it is already buffered; whether the body ended."""
        if self.body_done:
            return True
        if self._framing == "length" and self._remaining > min(len(self._buffer), DRAIN_LIMIT):
            return False
        if self._framing == "close":
            return False
        drained = 0
        while drained <= DRAIN_LIMIT:
            piece = self._take()
            if piece is None:
                return False
            if not piece:
                return True
            drained += len(piece)
        return False

    def _take(self) -> bytes | None:
        """A piece of body from the buffer, ``b""`` at the end, None if more bytes are needed."""
        if self.body_done:
            return b""
        buffer = self._buffer
        if self._framing == "length":
            piece = self._take_counted()
            if piece == b"":
                self.body_done = True
            return piece
        if self._framing == "close":
            if not buffer:
                return None
            piece = bytes(buffer[:MAX_READ])
            del buffer[:MAX_READ]
            return piece
        while True:  # chunked
            if self._chunk == "data":
                piece = self._take_counted()
                if piece is None or piece:
                    return piece
                self._chunk = "data-end"
                continue
            newline = buffer.find(b"\n")
            if newline < 0:
                if len(buffer) > MAX_CHUNK_LINE:
                    raise httpx.RemoteProtocolError("chunk framing line too long")
                return None
            line = bytes(buffer[:newline]).strip()
            del buffer[: newline + 1]
            if self._chunk == "data-end":
                if line:
                    raise httpx.RemoteProtocolError("missing CRLF after chunk data")
                self._chunk = "size"
            elif self._chunk == "size":
                size_text = line.split(b";", 1)[0].strip()
                try:
                    size = int(size_text, 16)
                except ValueError:
                    raise httpx.RemoteProtocolError(f"bad chunk size {size_text[:20]!r}") from None
                if size < 0:
                    raise httpx.RemoteProtocolError("negative chunk size")
                self._chunk, self._remaining = ("data", size) if size else ("trailer", 0)
            elif not line:  # the empty line after the (ignored) trailers
                self._chunk, self.body_done = "done", True
                return b""

    def _take_counted(self) -> bytes | None:
        """Up to ``_remaining`` bytes; ``b""`` once they are all taken."""
        if self._remaining == 0:
            return b""
        buffer = self._buffer
        if not buffer:
            return None
        size = min(self._remaining, len(buffer), MAX_READ)
        piece = bytes(buffer[:size])
        del buffer[:size]
        self._remaining -= size
        return piece
