"""A TCP proxy in front of PostgreSQL that a test can cut, freeze and restore."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

CHUNK = 64 * 1024


@dataclass(eq=False)
class _Link:
    """One client connection and, unless frozen at accept, its upstream connection."""

    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter | None = None
    pumps: list[asyncio.Task[None]] = field(default_factory=list)
    swallow_reply: bool = False

    def abort(self) -> None:
        for writer in (self.client, self.upstream):
            if writer is not None:
                writer.transport.abort()
        for pump in self.pumps:
            pump.cancel()


class DatabaseProxy:
    """Forward 127.0.0.1:<port> to the database, with faults on demand.

    - `cut()`: every connection is dropped and new ones are refused (the listener closes),
      as when PostgreSQL restarts.
    - `freeze()`: connections stay open but no byte moves, and new ones are accepted and
      never answered, as with a hung server or a black-holed network.
    - `cut_after(marker)`: the next client message containing `marker` is delivered and
      answered by the server, but the answer is thrown away and the client's connection
      dropped: the server did the work, the client never hears of it.
    - `restore()`: back to normal; frozen connections are dropped.
    """

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self._upstream = (upstream_host, upstream_port)
        self._server: asyncio.Server | None = None
        self._links: set[_Link] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._trap: bytes | None = None
        self.trapped = asyncio.Event()
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._accept, "127.0.0.1", self.port or 0, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        self._flowing.set()
        await self._stop_listening()
        self._drop_all()

    async def cut(self) -> None:
        await self._stop_listening()
        self._drop_all()

    def freeze(self) -> None:
        self._flowing.clear()

    async def restore(self) -> None:
        if not self._flowing.is_set():
            self._drop_all()
            self._flowing.set()
        if self._server is None:
            await self.start()

    def cut_after(self, marker: bytes) -> None:
        self.trapped.clear()
        self._trap = marker

    async def _stop_listening(self) -> None:
        if self._server is not None:
            server, self._server = self._server, None
            server.close()

    def _drop_all(self) -> None:
        for link in list(self._links):
            link.abort()
        self._links.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        link = _Link(writer)
        self._links.add(link)
        if not self._flowing.is_set():
            return  # accepted, never answered; dropped on restore
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._upstream)
        except OSError:
            link.abort()
            self._links.discard(link)
            return
        link.upstream = up_writer
        link.pumps = [
            asyncio.create_task(self._pump(reader, up_writer, link, inspect=True)),
            asyncio.create_task(self._pump(up_reader, writer, link, inspect=False)),
        ]

    async def _pump(
        self,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        link: _Link,
        *,
        inspect: bool,
    ) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await source.read(CHUNK):
                await self._flowing.wait()
                if not inspect and link.swallow_reply:
                    log.info("proxy: dropped the reply %r and the connection", data[:40])
                    self.trapped.set()
                    break
                if inspect and self._trap is not None and self._trap in data:
                    self._trap = None
                    link.swallow_reply = True
                sink.write(data)
                await sink.drain()
        self._links.discard(link)
        link.abort()
