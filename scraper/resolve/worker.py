"""One resolver process: URLs in on stdin, results out on stdout, one JSON value per line.

:mod:`scraper.resolve.pool` starts ``python -m scraper.resolve.worker`` once per CPU core
when a run has many URLs: one event loop is CPU-bound at about a thousand requests a
second, so a second core nearly doubles what short-latency hosts allow.

The protocol, all UTF-8 JSON, one value per line:

- parent -> worker: first ``{"config": {...ResolverConfig...}, "log_level": N}``, then
  one URL (a JSON string) per line; closing stdin means no more URLs.
- worker -> parent: one result per URL (:func:`resolution_to_wire`), in completion
  order; the worker exits 0 once stdin is closed and every URL is answered.

The worker makes its own guarded client from the config it is sent, so it keeps the
same limits and address checks as the parent would (``allow_private`` included).
Its log lines go to stderr, which it shares with the parent.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import signal
import sys
from typing import Any

from scraper.config import ResolverConfig
from scraper.model import Hop, Resolution
from scraper.resolve.fan_in import Emit, fan_in
from scraper.resolve.resolver import PARKED_FACTOR, Resolver, resolver_client

logger = logging.getLogger("scraper.resolve")

LINE_LIMIT = 64 * 1024 * 1024  # a result with ten long hops is far below this


def resolution_to_wire(result: Resolution) -> bytes:
    """``result`` as one JSON line (every field, hops included)."""
    return json.dumps(dataclasses.asdict(result), ensure_ascii=False).encode() + b"\n"


def resolution_from_wire(line: bytes) -> Resolution:
    """The :class:`Resolution` that :func:`resolution_to_wire` wrote."""
    data: dict[str, Any] = json.loads(line)
    hops = [Hop(**hop) for hop in data.pop("hops")]
    return Resolution(**data, hops=hops)


def config_to_wire(config: ResolverConfig, log_level: int) -> bytes:
    """The first line a worker reads: its config and the log level to use."""
    header = {"config": dataclasses.asdict(config), "log_level": log_level}
    return json.dumps(header).encode() + b"\n"


async def _stdin_reader() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=LINE_LIMIT)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


class _StdoutLines:
    """stdout for result lines, written on a thread: a slow parent blocks that thread only.

    (asyncio's pipe writers need a protocol class asyncio does not document; a blocking
    write in a worker thread gives the same back-pressure with public APIs.)
    """

    def __init__(self) -> None:
        self.out = sys.stdout.buffer

    def _write(self, data: bytes) -> None:
        self.out.write(data)
        self.out.flush()

    async def write(self, data: bytes) -> None:
        """Write ``data`` and flush it, off the event loop."""
        await asyncio.to_thread(self._write, data)


async def serve(config: ResolverConfig, reader: asyncio.StreamReader) -> None:
    """Resolve every URL read from ``reader`` and write each result to stdout."""
    writer = _StdoutLines()
    workers = PARKED_FACTOR * config.concurrency
    urls: asyncio.Queue[str | None] = asyncio.Queue()

    async def read() -> None:
        while line := await reader.readline():
            urls.put_nowait(json.loads(line))
        for _ in range(workers):
            urls.put_nowait(None)

    async with resolver_client(config) as client:
        resolver = Resolver(config, client)

        async def work(emit: Emit[Resolution]) -> None:
            while (url := await urls.get()) is not None:
                await emit(await resolver.resolve(url))

        stream = fan_in(work, workers, config.concurrency)
        async with asyncio.TaskGroup() as group, contextlib.aclosing(stream):
            group.create_task(read())
            async for result in stream:
                await writer.write(resolution_to_wire(result))


async def _main() -> None:
    reader = await _stdin_reader()
    header = json.loads(await reader.readline())
    logging.basicConfig(
        level=header["log_level"],
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    await serve(ResolverConfig(**header["config"]), reader)


def main() -> None:
    """Entry point of ``python -m scraper.resolve.worker``."""
    # Ctrl-C reaches the whole process group; the parent decides when a worker stops
    # (it closes stdin, or kills it), so the worker does not die mid-line on its own
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        asyncio.run(_main())
    except* (BrokenPipeError, ConnectionResetError):
        # the parent is gone (killed): nobody to answer to, and no traceback to leave
        print("scraper resolver worker: parent process gone, stopping", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
