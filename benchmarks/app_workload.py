"""An application-like workload: where a user would feel what tracing costs.

One event loop runs a TCP server on localhost and ``CLIENTS`` client tasks.
Each client makes ``REQUESTS`` requests through a connection pool: it takes a
permit of ``prims.Semaphore(POOL)``, borrows an open connection from a
``prims.Queue`` of ``POOL`` connections, writes a request line, reads the
reply, returns the connection and the permit, then hands the reply to a worker
pool: ``WORKERS`` tasks fed by a bounded ``prims.Queue`` that do real work on
each item (hash, then JSON round trip) and ``task_done()`` it.  The server's
handler is plain asyncio streams, so the primitives under test are the pool's
semaphore and the two queues, as in a real client library.

``run(prims, clients)`` returns the seconds from the first request to the
last ``join()``; server start and connection setup are not timed.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from time import perf_counter
from typing import Any

__all__ = ["CLIENTS", "REQUESTS", "run"]

CLIENTS = 200
REQUESTS = 5
POOL = 10
WORKERS = 4
WORK_QUEUE = 32
PAYLOAD = b"x" * 512


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while line := await reader.readline():
            writer.write(line[:-1] + PAYLOAD + b"\n")
            await writer.drain()
    finally:
        writer.close()
        _handlers_done.append(True)


_handlers_done: list[bool] = []


def _work(reply: bytes) -> int:
    digest = hashlib.sha256(reply * 8).hexdigest()
    return len(json.loads(json.dumps({"digest": digest, "size": len(reply)})))


async def run(prims: Any, clients: int = CLIENTS) -> float:
    server = await asyncio.start_server(_serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    connections = prims.Queue()
    opened = [await asyncio.open_connection("127.0.0.1", port) for _ in range(POOL)]
    for connection in opened:
        connections.put_nowait(connection)
    pool = prims.Semaphore(POOL)
    results = prims.Queue(WORK_QUEUE)
    done = 0

    async def client(number: int) -> None:
        for request in range(REQUESTS):
            async with pool:
                reader, writer = await connections.get()
                try:
                    writer.write(f"{number}:{request}\n".encode())
                    await writer.drain()
                    reply = await reader.readline()
                finally:
                    connections.put_nowait((reader, writer))
            await results.put(reply)

    async def worker() -> None:
        nonlocal done
        while True:
            reply = await results.get()
            done += _work(reply) > 0
            results.task_done()

    start = perf_counter()
    workers = [asyncio.create_task(worker()) for _ in range(WORKERS)]
    await asyncio.gather(*(client(n) for n in range(clients)))
    await results.join()
    elapsed = perf_counter() - start
    for task in workers:
        task.cancel()
    await asyncio.gather(*workers, return_exceptions=True)
    for _, writer in opened:
        writer.close()
        await writer.wait_closed()
    while len(_handlers_done) < POOL:  # let the server's handlers see the end of input
        await asyncio.sleep(0.001)
    _handlers_done.clear()
    server.close()
    await server.wait_closed()
    assert done == clients * REQUESTS
    return elapsed
