"""A slow network in front of a server: a TCP relay that holds every chunk a while each way.

Stands for a PostgreSQL server on another machine. Run it as its own process so its work never
shares the event loop being measured:

    python -m tests.support.slow_link 127.0.0.1:5432 --delay-ms 10

prints the port it listens on, then relays until stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                delay: float) -> None:
    """Copy reader to writer, each chunk arriving `delay` seconds after it was read, in order."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def read() -> None:
        while chunk := await reader.read(65536):
            queue.put_nowait((loop.time() + delay, chunk))
        queue.put_nowait((loop.time() + delay, b""))

    reading = asyncio.create_task(read())
    try:
        while True:
            due, chunk = await queue.get()
            await asyncio.sleep(max(0.0, due - loop.time()))
            if not chunk:
                break
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        reading.cancel()
        writer.close()


async def relay(target_host: str, target_port: int, delay: float) -> asyncio.Server:
    """Listen on a free loopback port; each connection goes to the target, `delay` each way."""

    async def connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(target_host, target_port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, up_writer, delay), _pipe(up_reader, writer, delay),
                             return_exceptions=True)

    return await asyncio.start_server(connect, "127.0.0.1", 0)


@asynccontextmanager
async def slow_link(url: str, delay_ms: float) -> AsyncIterator[str]:
    """`url` (postgresql+psycopg://user@host:port/db) reached through a relay of its own
    process adding `delay_ms` each way; yields the URL to use instead."""
    rest = url.split("@", 1)[1]
    host_port = rest.split("/", 1)[0]
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.support.slow_link", host_port, "--delay-ms", str(delay_ms),
        stdout=asyncio.subprocess.PIPE)
    try:
        assert child.stdout is not None
        port = int((await child.stdout.readline()).decode())
        yield url.replace(host_port, f"127.0.0.1:{port}", 1)
    finally:
        child.terminate()
        await child.wait()


async def _main(target: str, delay_ms: float) -> None:
    host, port = target.rsplit(":", 1)
    server = await relay(host, int(port), delay_ms / 1000)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", help="host:port of the real server")
    parser.add_argument("--delay-ms", type=float, default=10.0)
    args = parser.parse_args()
    asyncio.run(_main(args.target, args.delay_ms))
