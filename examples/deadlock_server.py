"""A transfer server that deadlocks: the classic lock-ordering bug, in plain asyncio.

    python -m asyncprims trace --watchdog 1 examples/deadlock_server.py

Each account has an ``asyncio.Lock``.  A request ``transfer alice bob 5`` locks
the source account, reads it (a short sleep stands in for the database), then
locks the destination.  Two clients transfer in opposite directions at once:
one handler holds alice and waits for bob, the other holds bob and waits for
alice.  Neither can ever proceed, and every later request queues behind them.

The clients give up after ``--seconds``; the program then reports how many
transfers went through, shuts the server down and exits with status 1 if a
client got no answer.  Under ``python -m asyncprims trace --watchdog 1`` the
watchdog prints who waits for which lock, held by whom, and the cycle, about
one second after the deadlock.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib


class Bank:
    def __init__(self, names: list[str], delay: float) -> None:
        self.balances = dict.fromkeys(names, 100)
        self.locks = {name: asyncio.Lock() for name in names}
        self.delay = delay
        self.connections = 0

    async def transfer(self, source: str, target: str, amount: int) -> None:
        async with self.locks[source]:
            await asyncio.sleep(self.delay)  # read the source account
            async with self.locks[target]:
                self.balances[source] -= amount
                self.balances[target] += amount

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        if task is not None:
            task.set_name(f"handler-{self.connections}")
        try:
            while line := await reader.readline():
                _, source, target, amount = line.decode().split()
                await self.transfer(source, target, int(amount))
                writer.write(b"ok\n")
                await writer.drain()
        except asyncio.CancelledError:
            pass  # shut down while stuck (3.11's start_server would log it as an error)
        finally:
            writer.close()


async def client(port: int, source: str, target: str, requests: int) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    done = 0
    try:
        for _ in range(requests):
            writer.write(f"transfer {source} {target} 1\n".encode())
            await writer.drain()
            if await reader.readline() != b"ok\n":
                break
            done += 1
    finally:
        writer.close()
    return done


async def main(args: argparse.Namespace) -> int:
    bank = Bank(["alice", "bob"], args.delay)
    server = await asyncio.start_server(bank.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(f"listening on 127.0.0.1:{port}", flush=True)
    pairs = [("alice", "bob"), ("bob", "alice")]
    clients = [
        asyncio.create_task(client(port, *pairs[n % 2], args.requests), name=f"client-{n + 1}")
        for n in range(args.clients)
    ]
    finished, stuck = await asyncio.wait(clients, timeout=args.seconds)
    done = sum(task.result() for task in finished if not task.exception())
    print(
        f"{done} transfers done, {len(stuck)} of {len(clients)} clients got no answer "
        f"within {args.seconds:g} s",
        flush=True,
    )
    for task in stuck:
        task.cancel()
    server.close()
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(server.wait_closed(), 0.1)  # 3.12+ waits for the handlers
    return 1 if stuck else 0


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="how long clients wait")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--requests", type=int, default=20, help="transfers per client")
    parser.add_argument("--delay", type=float, default=0.01, help="seconds to read an account")
    return parser.parse_args()


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(parse())))
