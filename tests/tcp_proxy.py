"""A small TCP proxy for fault tests: latency, dropped connections and stalls between a client and a server.

    proxy = TcpProxy("127.0.0.1", broker_port).start()   # listens on 127.0.0.1:proxy.port
    proxy.latency_s = 0.3          # every chunk is delivered 300 ms after it arrived (pipelined, order kept)
    proxy.drop_all()               # abort every open connection now (both sides see a reset)
    proxy.drop_every_bytes = 4096  # abort each connection once it has forwarded 4 KiB (mid-response)
    proxy.stall(5.0, after_bytes=10)  # forward 10 more response bytes, then hold responses for 5 s
    proxy.reset()                  # back to a clean pass-through
    proxy.stop()

The knobs may be changed from any thread while the proxy runs; the proxy itself runs an asyncio
loop in a daemon thread of its own. "Responses" are the bytes flowing from the server to the
client; a stall holds them (requests still reach the server), which is what a half-dead link or
a stuck middlebox looks like to a client: a response that starts and then stops arriving.

Kafka note: clients connect to the broker's *advertised* address after the first metadata
answer, so a proxy in front of the bootstrap port alone is bypassed. Tests give the broker a
listener whose advertised address is the proxy's port (see tests/faults/support.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from dataclasses import dataclass, field

CHUNK = 64 * 1024


@dataclass(eq=False)  # hashed by identity: kept in a set
class _Conn:
    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter | None = None
    forwarded: int = 0
    tasks: list[asyncio.Task] = field(default_factory=list)

    def abort(self) -> None:
        for writer in (self.client, self.upstream):
            if writer is not None:
                writer.transport.abort()


class TcpProxy:
    def __init__(self, upstream_host: str, upstream_port: int, listen_host: str = "127.0.0.1", port: int = 0) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.listen_host = listen_host
        self.port = port
        # Knobs (plain attributes: read by the proxy's loop at every chunk).
        self.latency_s = 0.0
        self.drop_every_bytes: int | None = None
        # Counters, for tests to assert on.
        self.accepted = 0
        self.dropped = 0
        self.upstream_failures = 0
        self._stall_budget: int | None = None  # bytes still to forward before the stall starts
        self._stall_s = 0.0
        self._stall_until: float | None = None
        self._conns: set[_Conn] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # --- life cycle ---------------------------------------------------------------------------

    def start(self) -> TcpProxy:
        ready = threading.Event()
        failure: list[BaseException] = []

        def main() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                self._server = loop.run_until_complete(
                    asyncio.start_server(self._handle, self.listen_host, self.port, reuse_address=True)
                )
                self.port = self._server.sockets[0].getsockname()[1]
            except BaseException as exc:  # noqa: BLE001 - handed to the starting thread
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._thread = threading.Thread(target=main, name=f"tcp-proxy-{self.upstream[1]}", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return

        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            self._abort_all()
            tasks = [t for c in list(self._conns) for t in c.tasks]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            loop.stop()

        loop.call_soon_threadsafe(lambda: loop.create_task(shutdown()))
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def address(self) -> str:
        return f"{self.listen_host}:{self.port}"

    # --- knobs ----------------------------------------------------------------------------------

    def reset(self) -> None:
        """A clean pass-through again: no latency, no drops, no stall (held bytes flow on)."""
        with self._lock:
            self.latency_s = 0.0
            self.drop_every_bytes = None
            self._stall_budget = None
            self._stall_until = None

    def drop_all(self) -> int:
        """Abort every open connection now; returns how many there were."""
        if self._loop is None:
            return 0
        done = threading.Event()
        count = [0]

        def drop() -> None:
            count[0] = self._abort_all()
            done.set()

        self._loop.call_soon_threadsafe(drop)
        done.wait(5)
        return count[0]

    def stall(self, seconds: float, after_bytes: int = 0) -> None:
        """Forward `after_bytes` more response bytes (over all connections), then hold responses for `seconds`."""
        with self._lock:
            self._stall_s = seconds
            self._stall_until = None
            self._stall_budget = after_bytes

    @property
    def stalled(self) -> bool:
        with self._lock:
            return self._stall_until is not None and time.monotonic() < self._stall_until

    @property
    def open_connections(self) -> int:
        return len(self._conns)

    # --- the proxy --------------------------------------------------------------------------------

    def _abort_all(self) -> int:
        conns = list(self._conns)
        for conn in conns:
            conn.abort()
        self.dropped += len(conns)
        return len(conns)

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        conn = _Conn(client_writer)
        self._conns.add(conn)
        try:
            try:
                up_reader, up_writer = await asyncio.wait_for(asyncio.open_connection(*self.upstream), 10)
            except (OSError, TimeoutError):
                self.upstream_failures += 1  # the server is down: the client sees its connection closed
                return
            conn.upstream = up_writer
            requests = asyncio.create_task(self._pipe(conn, client_reader, up_writer, responses=False))
            responses = asyncio.create_task(self._pipe(conn, up_reader, client_writer, responses=True))
            conn.tasks = [requests, responses]
            await asyncio.wait(conn.tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._conns.discard(conn)
            conn.abort()
            for task in conn.tasks:
                task.cancel()
            await asyncio.gather(*conn.tasks, return_exceptions=True)

    async def _pipe(
        self, conn: _Conn, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, responses: bool
    ) -> None:
        """Read chunks into a queue stamped with their delivery time; a writer task delivers them."""
        queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()
        deliver = asyncio.create_task(self._deliver(conn, queue, writer, responses=responses))
        try:
            while True:
                try:
                    data = await reader.read(CHUNK)
                except (ConnectionError, OSError):
                    data = b""
                if not data:
                    await queue.put(None)
                    break
                await queue.put((time.monotonic() + self.latency_s, data))
            await deliver
        finally:
            deliver.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError, OSError):
                await deliver

    async def _deliver(
        self, conn: _Conn, queue: asyncio.Queue, writer: asyncio.StreamWriter, *, responses: bool
    ) -> None:
        while True:
            item = await queue.get()
            if item is None:
                with contextlib.suppress(OSError, RuntimeError):
                    writer.write_eof()
                return
            due, data = item
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            while data:
                if responses:
                    allowed = await self._stall_gate(len(data))
                else:
                    allowed = len(data)
                limit = self.drop_every_bytes
                if limit is not None:
                    allowed = min(allowed, max(0, limit - conn.forwarded))
                part, data = data[:allowed], data[allowed:]
                if part:
                    writer.write(part)
                    await writer.drain()
                    conn.forwarded += len(part)
                if limit is not None and conn.forwarded >= limit:
                    self.dropped += 1
                    conn.abort()  # cut in the middle of whatever was flowing
                    return

    async def _stall_gate(self, wanted: int) -> int:
        """How many of `wanted` response bytes may go now; waits out an active stall first."""
        while True:
            with self._lock:
                now = time.monotonic()
                if self._stall_until is not None:
                    if now >= self._stall_until:
                        self._stall_until = None  # the stall is over: pass everything again
                        return wanted
                    wait = min(0.05, self._stall_until - now)
                elif self._stall_budget is not None:
                    if self._stall_budget > 0:
                        allowed = min(wanted, self._stall_budget)
                        self._stall_budget -= allowed
                        return allowed
                    self._stall_budget = None
                    self._stall_until = now + self._stall_s
                    continue
                else:
                    return wanted
            await asyncio.sleep(wait)
