"""An asyncio TCP echo server with a bounded handler pool and a worker pool, and
a load generator that drives it for a few seconds.  Plain asyncio: nothing in it
knows about asyncprims.

    python examples/echo_server.py --seconds 2
    python -m asyncprims trace --plot echo.png examples/echo_server.py --seconds 2

The server listens on localhost (any free port).  A connection's handler reads
request lines; each request takes one of ``--slots`` places in an
``asyncio.Semaphore`` (requests in flight), goes to the workers through an
``asyncio.Queue`` of ``--backlog`` places as a job with a future for the
answer, and the reply is written when a worker has set it.  ``--workers``
workers take jobs from the queue and spend ``--work`` seconds on each (a
stand-in for a database call).  ``--clients`` clients send requests, one at a
time each, until ``--seconds`` have passed; then the server shuts down.

Prints one line when listening and a summary at the end, on stdout; exit 0.
"""

from __future__ import annotations

import argparse
import asyncio
import time


class EchoServer:
    def __init__(self, slots: int, backlog: int, workers: int, work: float) -> None:
        self.slots = asyncio.Semaphore(slots)
        self.jobs: asyncio.Queue[tuple[bytes, asyncio.Future[bytes]]] = asyncio.Queue(backlog)
        self.work = work
        self.worker_count = workers
        self.served = 0
        self.connections = 0

    async def worker(self) -> None:
        while True:
            line, answer = await self.jobs.get()
            await asyncio.sleep(self.work)  # the real work: a database call, say
            if not answer.done():
                answer.set_result(line.upper())
            self.jobs.task_done()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        if task is not None:
            task.set_name(f"handler-{self.connections}")
        try:
            while line := await reader.readline():
                async with self.slots:
                    answer = asyncio.get_running_loop().create_future()
                    await self.jobs.put((line, answer))
                    reply = await answer
                writer.write(reply)
                await writer.drain()
                self.served += 1
        finally:
            writer.close()


async def client(port: int, deadline: float, number: int) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sent = 0
    try:
        while time.monotonic() < deadline:
            writer.write(f"request {number}.{sent}\n".encode())
            await writer.drain()
            reply = await reader.readline()
            assert reply == f"REQUEST {number}.{sent}\n".encode(), reply
            sent += 1
    finally:
        writer.close()
        await writer.wait_closed()
    return sent


async def main(args: argparse.Namespace) -> None:
    server = EchoServer(args.slots, args.backlog, args.workers, args.work)
    workers = [
        asyncio.create_task(server.worker(), name=f"worker-{n + 1}") for n in range(args.workers)
    ]
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    print(f"listening on 127.0.0.1:{port}", flush=True)
    deadline = time.monotonic() + args.seconds
    started = time.monotonic()
    async with listener:
        counts = await asyncio.gather(
            *(
                asyncio.create_task(client(port, deadline, n), name=f"client-{n + 1}")
                for n in range(args.clients)
            )
        )
    elapsed = time.monotonic() - started
    await server.jobs.join()
    for task in workers:
        task.cancel()
    await asyncio.gather(*workers, return_exceptions=True)
    print(
        f"{args.clients} clients, {sum(counts)} requests answered in {elapsed:.1f} s, "
        f"{server.served} served by {args.workers} workers",
        flush=True,
    )


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="how long the clients run")
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--slots", type=int, default=3, help="requests in flight at most")
    parser.add_argument("--backlog", type=int, default=2, help="queue places")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--work", type=float, default=0.005, help="seconds of work per job")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse()))
