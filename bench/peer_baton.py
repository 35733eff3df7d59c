"""Baton peer for the peer benchmark's driver (../shared/peers/bench.py), so one driver
measures Baton, pgqueuer and procrastinate the same way:

    cd ../shared/peers
    /tmp/peersvenv/bin/python bench.py --peer baton --adapter-file <repo>/bench/peer_baton.py \\
        --metric throughput --config default --run 1

Worker: a real `baton worker` process (BATON_BIN, else the repository's release build) with
the `builtin:probe` handler, which sends the driver's datagrams to $PEERS_SOCK itself (no
Python in the worker). Database: `baton` on the peers' cluster (PEERS_DSN_BATON to change it);
`open()` creates and migrates it when needed.

How the driver's words map onto Baton:

- A job is a step. An entrypoint is a session kind (`peers-<entrypoint>`), and a session is
  one phase: THINK, EXECUTE, INTEGRATE, the steps advancing by themselves.
- throughput: `enqueue_many("tp", n)` creates ceil(n/3) sessions in one call
  (`baton.create_sessions`), so n steps and at most 2 more. `pending()` counts the steps not
  yet committed minus those extra ones, so it starts at n and reaches 0 when n steps are
  done; `finished()` counts committed steps. The probe sends `first` at the worker's first
  step and `nth` at its $PEERS_N-th.
- latency: `enqueue_one("lat", tag)` creates a session with input {"tag": tag}; its THINK
  step sends `start` step 1 (EXECUTE and INTEGRATE also run and report; the driver ignores
  them, and it waits for all three through `pending()` before the next sample).
- chain: `enqueue_one("think", tag)`: THINK, EXECUTE and INTEGRATE of that session send
  `start` steps 1, 2, 3. In Baton the handler does not enqueue the next step: it returns its
  result, and the worker commits that result together with the next step's task (one
  transaction) and claims it. So THINK and EXECUTE send `enq` for the next step as their
  last act, with `tw0` = `tw` (no enqueue call inside the handler). A hop from `enq` to the
  next `start` therefore includes the commit of the result and of the next task, which
  pgqueuer's hop leaves to the in-handler enqueue call (its `enqueue_call_in_handler`); the
  `total` (driver's enqueue returned → INTEGRATE started) compares like with like.

Configs: `default` runs `baton worker` with its defaults (WORKER_BATCH_SIZE 4);
`batch100` sets WORKER_BATCH_SIZE 100 (steps claimed and run at the same time), the nearest
setting to pgqueuer's batch100; `batch100x2` splits those 100 over two claim/commit
connections (WORKER_CONNECTIONS 2), so the database commits two batches at once.
"""

from __future__ import annotations

import json
import os
import subprocess

import asyncpg

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DSN = os.environ.get("PEERS_DSN_BATON", "postgresql://postgres@127.0.0.1:55432/baton")
PREFIX = "peers-"


def baton_binary() -> str:
    if os.environ.get("BATON_BIN"):
        return os.environ["BATON_BIN"]
    for path in (".build-release/release/baton", ".build/release/baton", ".build/debug/baton"):
        full = os.path.join(REPO, path)
        if os.access(full, os.X_OK):
            return full
    raise SystemExit("no baton binary: build one (swift build -c release --scratch-path .build-release) or set BATON_BIN")


class Adapter:
    name = "baton"
    configs = {
        "default": [],
        "batch100": ["--batch-size", "100"],
        "batch100x2": ["--batch-size", "100", "--connections", "2"],
    }

    def __init__(self) -> None:
        self.conn: asyncpg.Connection | None = None
        self.poll: asyncpg.Connection | None = None
        # Steps beyond the n asked for (sessions have 3 steps each), per kind.
        self.surplus: dict[str, int] = {}

    def worker_cmd(self, config: str) -> list[str]:
        # BATON_LOG_LEVEL comes from the environment (default info: nothing is logged per step).
        return [baton_binary(), "worker", "--database-url", DSN, "--handler", "builtin:probe", *self.configs[config]]

    async def open(self) -> None:
        await self._ensure_database()
        self.conn = await asyncpg.connect(DSN)
        self.poll = await asyncpg.connect(DSN)

    async def _ensure_database(self) -> None:
        admin_dsn = DSN.rsplit("/", 1)[0] + "/postgres"
        name = DSN.rsplit("/", 1)[1].split("?")[0]
        admin = await asyncpg.connect(admin_dsn)
        try:
            if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        # Idempotent: applies only what is missing.
        subprocess.run([baton_binary(), "migrate", "--database-url", DSN], check=True,
                       stdout=subprocess.DEVNULL, env=dict(os.environ, BATON_LOG_LEVEL="warning"))

    async def close(self) -> None:
        for c in (self.conn, self.poll):
            if c is not None:
                await c.close()

    async def reset(self) -> None:
        # Like the other peers' TRUNCATE of their queue tables.
        assert self.poll is not None
        await self.poll.execute("TRUNCATE baton.sessions, baton.tasks, baton.attempts, baton.parked_sessions")
        self.surplus.clear()

    async def enqueue_one(self, entrypoint: str, tag: str) -> None:
        assert self.conn is not None
        await self.conn.execute(
            "SELECT baton.create_session(1, $1::jsonb, NULL, $2)",
            json.dumps({"tag": tag}), PREFIX + entrypoint)

    async def enqueue_many(self, entrypoint: str, n: int) -> None:
        # One call: baton.create_sessions inserts every session and its first task in one statement.
        assert self.conn is not None
        sessions = (n + 2) // 3
        self.surplus[PREFIX + entrypoint] = sessions * 3 - n
        await self.conn.execute(
            "SELECT count(*) FROM baton.create_sessions(1, array_fill('{}'::jsonb, ARRAY[$1::int]), $2)",
            sessions, PREFIX + entrypoint)

    async def analyze(self) -> None:
        # The claim reads tasks and joins sessions: both get fresh statistics.
        assert self.poll is not None
        await self.poll.execute("ANALYZE baton.tasks, baton.sessions")

    async def pending(self) -> int:
        # Steps not yet committed: a session's position is the step queued or running, and it
        # moves on in the transaction that commits the step before it.
        assert self.poll is not None
        rows = await self.poll.fetch("""
            SELECT kind, sum(CASE step WHEN 'THINK' THEN 3 WHEN 'EXECUTE' THEN 2 ELSE 1 END) AS steps
            FROM baton.sessions WHERE status NOT IN ('COMPLETED', 'CANCELLED', 'FAILED') GROUP BY kind""")
        return sum(max(0, r["steps"] - self.surplus.get(r["kind"], 0)) for r in rows)

    async def finished(self) -> int:
        assert self.poll is not None
        return await self.poll.fetchval("SELECT count(*) FROM baton.tasks WHERE status = 'COMPLETED'")
