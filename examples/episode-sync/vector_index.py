#!/usr/bin/env python3
"""The episode index: a SQLite file with sqlite-vec, outside PostgreSQL's transactions.

It holds the chunks of exactly one version of each episode. `replace_episode` swaps an episode's
old chunks for a new version's in one SQLite transaction, and never lets a version go back.

    python vector_index.py search "some words" [--k 5]   # the nearest chunks (KNN)
    python vector_index.py dump                          # episode -> version and chunk count, as JSON
    python vector_index.py lock                          # hold the write lock until killed (a failure drill)

The file is EPISODE_INDEX (default ./episode-index.db).
"""
import json
import os
import signal
import sqlite3
import sys

import sqlite_vec


def path():
    return os.environ.get("EPISODE_INDEX", "episode-index.db")


class VectorIndex:
    def __init__(self, file=None, timeout=2.0):
        self.db = sqlite3.connect(file or path(), timeout=timeout, isolation_level=None)
        self.db.enable_load_extension(True)
        sqlite_vec.load(self.db)
        self.db.enable_load_extension(False)
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        self.db.execute("""CREATE TABLE IF NOT EXISTS chunks (
            id INTEGER PRIMARY KEY, episode_id INTEGER NOT NULL, version INTEGER NOT NULL,
            chunk_no INTEGER NOT NULL, text TEXT NOT NULL)""")
        self.db.execute("CREATE INDEX IF NOT EXISTS chunks_episode ON chunks (episode_id)")

    def dimensions(self):
        row = self.db.execute("SELECT value FROM meta WHERE key = 'dimensions'").fetchone()
        return int(row[0]) if row else None

    def _vectors_table(self, dimensions):
        known = self.dimensions()
        if known is None:
            self.db.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS vectors USING vec0(embedding float[{int(dimensions)}])")
            self.db.execute("INSERT INTO meta VALUES ('dimensions', ?)", [str(int(dimensions))])
        elif known != dimensions:
            raise RuntimeError(f"the index holds {known}-dimensional vectors, the embedder gives {dimensions}: "
                               f"use the same embedder, or start a new index file")

    def version_of(self, episode_id):
        row = self.db.execute("SELECT max(version) FROM chunks WHERE episode_id = ?", [episode_id]).fetchone()
        return row[0]

    def replace_episode(self, episode_id, version, texts, vectors):
        """The episode's chunks become exactly `version`'s; an older version than the one held is
        refused (returns False), so a late writer can never roll the index back."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            held = self.version_of(episode_id)
            if held is not None and held > version:
                self.db.execute("ROLLBACK")
                return False
            self._vectors_table(len(vectors[0]))
            self._delete(episode_id)
            for number, (text, vector) in enumerate(zip(texts, vectors)):
                row = self.db.execute("INSERT INTO chunks (episode_id, version, chunk_no, text) VALUES (?, ?, ?, ?)",
                                      [episode_id, version, number, text]).lastrowid
                self.db.execute("INSERT INTO vectors (rowid, embedding) VALUES (?, ?)",
                                [row, sqlite_vec.serialize_float32(vector)])
            self.db.execute("COMMIT")
            return True
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def delete_episode(self, episode_id):
        self.db.execute("BEGIN IMMEDIATE")
        try:
            removed = self._delete(episode_id)
            self.db.execute("COMMIT")
            return removed
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def _delete(self, episode_id):
        rows = [r[0] for r in self.db.execute("SELECT id FROM chunks WHERE episode_id = ?", [episode_id])]
        if rows and self.dimensions() is not None:
            self.db.executemany("DELETE FROM vectors WHERE rowid = ?", [[r] for r in rows])
        self.db.execute("DELETE FROM chunks WHERE episode_id = ?", [episode_id])
        return len(rows)

    def search(self, vector, k=5):
        """The k nearest chunks: (episode_id, version, chunk_no, distance, text)."""
        if self.dimensions() is None:
            return []
        return self.db.execute("""
            SELECT c.episode_id, c.version, c.chunk_no, v.distance, c.text
            FROM vectors v JOIN chunks c ON c.id = v.rowid
            WHERE v.embedding MATCH ? AND k = ?
            ORDER BY v.distance""", [sqlite_vec.serialize_float32(vector), k]).fetchall()

    def contents(self):
        """episode id -> {"version", "chunks"}; vectors without a chunk row count as a fault."""
        out = {}
        for episode, version, count in self.db.execute(
                "SELECT episode_id, max(version), count(*) FROM chunks GROUP BY episode_id"):
            versions = self.db.execute("SELECT count(DISTINCT version) FROM chunks WHERE episode_id = ?", [episode]).fetchone()[0]
            out[str(episode)] = {"version": version, "chunks": count, "versions": versions}
        if self.dimensions() is not None:
            stray = self.db.execute("SELECT count(*) FROM vectors WHERE rowid NOT IN (SELECT id FROM chunks)").fetchone()[0]
            missing = self.db.execute("SELECT count(*) FROM chunks WHERE id NOT IN (SELECT rowid FROM vectors)").fetchone()[0]
            if stray or missing:
                out["_faults"] = {"vectorsWithoutChunk": stray, "chunksWithoutVector": missing}
        return out


def main(argv):
    if len(argv) < 2 or argv[1] not in ("search", "dump", "lock"):
        print(__doc__, file=sys.stderr)
        return 2
    if argv[1] == "lock":
        db = sqlite3.connect(path(), isolation_level=None)
        db.execute("BEGIN EXCLUSIVE")
        print("locked", flush=True)
        while True:  # the lock goes when the process does (Ctrl-C, kill)
            signal.pause()
    index = VectorIndex()
    if argv[1] == "dump":
        print(json.dumps(index.contents(), sort_keys=True))
        return 0
    from embedding import load
    embed, _ = load()
    k = int(argv[argv.index("--k") + 1]) if "--k" in argv else 5
    text = " ".join(a for i, a in enumerate(argv[2:]) if a != "--k" and argv[1 + i] != "--k")
    hits = index.search(embed([text])[0], k)
    print(json.dumps([{"episode": e, "version": v, "chunk": c, "distance": round(d, 4), "text": t} for e, v, c, d, t in hits]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
