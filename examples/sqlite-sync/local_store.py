"""The agent's local SQLite file: what the producer records, and the sync's own log.

Every recorded row starts unsynced (synced_at NULL); the sync marks it once the central
PostgreSQL has committed it. `sync_logs` has one row per sync run (a Baton session).
"""
import sqlite3

TABLES = {
    # table: the columns copied to PostgreSQL besides source_host and original_id
    "activity": ["recorded_at", "app", "title"],
    "file_changes": ["recorded_at", "path", "change"],
}

SCHEMA = """
CREATE TABLE IF NOT EXISTS activity (
    id INTEGER PRIMARY KEY AUTOINCREMENT, recorded_at TEXT NOT NULL, app TEXT NOT NULL, title TEXT NOT NULL,
    synced_at TEXT);
CREATE TABLE IF NOT EXISTS file_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT, recorded_at TEXT NOT NULL, path TEXT NOT NULL, change TEXT NOT NULL,
    synced_at TEXT);
CREATE INDEX IF NOT EXISTS activity_unsynced ON activity (id) WHERE synced_at IS NULL;
CREATE INDEX IF NOT EXISTS file_changes_unsynced ON file_changes (id) WHERE synced_at IS NULL;
CREATE TABLE IF NOT EXISTS sync_logs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL UNIQUE,       -- the Baton session of the run
    trigger TEXT NOT NULL,                 -- schedule, catch-up or manual (run-now)
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL,                  -- running, retrying (an attempt failed), ok
    attempts INTEGER NOT NULL DEFAULT 0,   -- EXECUTE attempts so far
    rows TEXT NOT NULL DEFAULT '{}',       -- rows moved per table, as JSON
    error TEXT);                           -- what went wrong in its attempts, oldest first
"""


def open_store(path):
    db = sqlite3.connect(path, timeout=10, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")  # the producer writes while the sync reads
    db.executescript(SCHEMA)
    return db
