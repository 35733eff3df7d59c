#!/usr/bin/env python3
"""Moves this host's unsynced rows from its local SQLite file into the central PostgreSQL.

As a Baton handler (BATON_HANDLER=sqlite-sync.<host>=command:python sync.py) it runs the three
steps of a sync session, which a schedule creates every few minutes (and `baton schedule run-now`
on demand):

  THINK      open this run's sync_logs row; count what waits
  EXECUTE    in batches: upsert into PostgreSQL on (source_host, original_id), COMMIT there, and
             only then mark the batch synced locally. A crash between the two re-sends the batch
             next time, and the upsert makes that a no-op: every row arrives exactly once.
  INTEGRATE  close the log row: ok, with the rows moved per table

A failure (PostgreSQL unreachable, say) is logged and exits non-zero: Baton retries the step
with exponential backoff (the worker's MAX_RETRIES, RETRY_DELAY); rows wait locally meanwhile.

    python sync.py stats [--json]    # runs, rows moved, errors, what still waits
    python sync.py count             # rows recorded and waiting per table, as JSON (works offline)

Environment: SYNC_HOST (this host's name), SYNC_DB (the local file), SYNC_DATABASE_URL (the
central PostgreSQL; Baton never hands its own URL to a handler), SYNC_BATCH_SIZE (default 500),
SYNC_PAUSE_MS (a pause between batches, to watch a run move; default 0).
"""
import datetime
import fcntl
import json
import os
import sys
import time

from local_store import TABLES, open_store


def now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


def setting(name, default=None):
    value = os.environ.get(name, default)
    if value is None:
        raise SystemExit(f"{name} is not set")
    return value


def trigger(document):
    schedule = document.get("schedule") or {}
    if schedule.get("manual"):
        return "manual"
    return "catch-up" if schedule.get("slots", 1) > 1 else "schedule"


def think(db, document):
    session = document["session"]["id"]
    db.execute("INSERT OR IGNORE INTO sync_logs (session_id, trigger, started_at, status) VALUES (?, ?, ?, 'running')",
               [session, trigger(document), now()])
    waiting = {t: db.execute(f"SELECT count(*) FROM {t} WHERE synced_at IS NULL").fetchone()[0] for t in TABLES}
    return {"host": setting("SYNC_HOST"), "waiting": waiting}


def note(db, session, message):
    """Adds to the run's error history (newest last, the oldest dropped past 4000 characters)."""
    old = db.execute("SELECT error FROM sync_logs WHERE session_id = ?", [session]).fetchone()[0]
    text = f"{old}; {message}" if old else message
    db.execute("UPDATE sync_logs SET error = ? WHERE session_id = ?", [text[-4000:], session])


def execute(db, document):
    import psycopg

    session = document["session"]["id"]
    host = setting("SYNC_HOST")
    batch = int(os.environ.get("SYNC_BATCH_SIZE", "500"))
    pause = float(os.environ.get("SYNC_PAUSE_MS", "0")) / 1000
    # One run at a time per host (a run-now may come while a scheduled run goes): the second
    # waits here, then finds only what is left.
    lock = open(setting("SYNC_DB") + ".sync-lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    before = db.execute("SELECT attempts, error FROM sync_logs WHERE session_id = ?", [session]).fetchone()
    if before and before[0] and before[0] < document["attempt"] and f"attempt {before[0]}:" not in (before[1] or ""):
        # The previous attempt left no word: it was cut off (its worker was killed, say).
        note(db, session, f"attempt {before[0]}: cut off, no result (its worker went away); attempt {document['attempt']} goes on")
    db.execute("UPDATE sync_logs SET attempts = ?, status = 'running' WHERE session_id = ?", [document["attempt"], session])
    moved = json.loads(db.execute("SELECT rows FROM sync_logs WHERE session_id = ?", [session]).fetchone()[0])
    try:
        with psycopg.connect(setting("SYNC_DATABASE_URL"), connect_timeout=5) as central:
            for table, columns in TABLES.items():
                while True:
                    rows = db.execute(f"SELECT id, {', '.join(columns)} FROM {table} WHERE synced_at IS NULL "
                                      f"ORDER BY id LIMIT ?", [batch]).fetchall()
                    if not rows:
                        break
                    with central.cursor() as cursor:
                        cursor.executemany(
                            f"INSERT INTO {table} (source_host, original_id, {', '.join(columns)}) "
                            f"VALUES (%s, %s{', %s' * len(columns)}) ON CONFLICT (source_host, original_id) DO NOTHING",
                            [(host, *row) for row in rows])
                    central.commit()  # first PostgreSQL ...
                    ids = [row[0] for row in rows]
                    db.execute("BEGIN")
                    db.executemany(f"UPDATE {table} SET synced_at = ? WHERE id = ?", [(now(), i) for i in ids])
                    moved[table] = moved.get(table, 0) + len(ids)
                    db.execute("UPDATE sync_logs SET rows = ? WHERE session_id = ?", [json.dumps(moved), session])
                    db.execute("COMMIT")  # ... then the local mark
                    if pause:
                        time.sleep(pause)
    except Exception as error:
        message = f"attempt {document['attempt']}: {type(error).__name__}: {str(error).strip()}"
        note(db, session, message)
        db.execute("UPDATE sync_logs SET status = 'retrying' WHERE session_id = ?", [session])
        raise RuntimeError(message) from error
    return {"host": host, "rows": moved}


def integrate(db, document):
    session = document["session"]["id"]
    db.execute("UPDATE sync_logs SET status = 'ok', finished_at = ? WHERE session_id = ?", [now(), session])
    row = db.execute("SELECT rows, attempts FROM sync_logs WHERE session_id = ?", [session]).fetchone()
    return {"host": setting("SYNC_HOST"), "rows": json.loads(row[0]), "attempts": row[1]}


def stats(db, as_json):
    runs = [dict(zip(["session", "trigger", "started", "finished", "status", "attempts", "rows", "error"], r))
            for r in db.execute("SELECT session_id, trigger, started_at, finished_at, status, attempts, rows, error "
                                "FROM sync_logs ORDER BY id")]
    for run in runs:
        run["rows"] = json.loads(run["rows"])
    summary = {
        "runs": len(runs),
        "byStatus": {s: sum(1 for r in runs if r["status"] == s) for s in sorted({r["status"] for r in runs})},
        "rowsMoved": {t: sum(r["rows"].get(t, 0) for r in runs) for t in TABLES},
        "waiting": {t: db.execute(f"SELECT count(*) FROM {t} WHERE synced_at IS NULL").fetchone()[0] for t in TABLES},
        "recorded": {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES},
        "lastRuns": runs[-10:],
    }
    if as_json:
        print(json.dumps(summary, indent=2))
        return
    print(f"{summary['runs']} runs: " + ", ".join(f"{n} {s}" for s, n in summary["byStatus"].items()))
    for table in TABLES:
        print(f"  {table}: {summary['recorded'][table]} recorded, {summary['rowsMoved'][table]} moved, "
              f"{summary['waiting'][table]} waiting")
    print("last runs:")
    for run in summary["lastRuns"]:
        rows = ", ".join(f"{t} {n}" for t, n in run["rows"].items()) or "no rows"
        print(f"  {run['started']}  {run['trigger']:<8} {run['status']:<11} attempts {run['attempts']}  {rows}"
              + (f"  [{run['error']}]" if run["error"] else ""))


def main(argv):
    db = open_store(setting("SYNC_DB"))
    if len(argv) > 1 and argv[1] == "stats":
        stats(db, "--json" in argv)
        return
    if len(argv) > 1 and argv[1] == "count":
        print(json.dumps({t: {"recorded": db.execute(f"SELECT count(*) FROM {t}").fetchone()[0],
                              "waiting": db.execute(f"SELECT count(*) FROM {t} WHERE synced_at IS NULL").fetchone()[0]}
                          for t in TABLES}))
        return
    document = json.load(sys.stdin)
    step = document["step"]
    try:
        result = {"THINK": think, "EXECUTE": execute, "INTEGRATE": integrate}[step](db, document)
    except Exception as error:
        print(str(error), file=sys.stderr)
        sys.exit(1)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main(sys.argv)
