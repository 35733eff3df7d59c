#!/usr/bin/env python3
"""The episode-sync handler: Baton runs it for each step of a session of kind `episode-sync`,
with the handler document on stdin, and stores what it prints as the step's result.

A session exists per changed episode (baton.watch on `episodes`, coalesced per id): its
`change` says `op` (insert, update, delete) and holds the `row` as committed when the session
started (for a delete, the row as it was).

  THINK      read and prepare: cut the episode into chunks and embed them
  EXECUTE    write to the index: the episode's old vectors out, this version's in (one SQLite
             transaction); a delete removes them
  INTEGRATE  mark the row synced, if it is still the version this session synced

A failure exits non-zero with the reason on stderr: Baton retries the step with backoff. The
row shows `failed` and the reason meanwhile; the next success marks it `synced`.

Environment: EPISODES_DATABASE_URL (the application's database; Baton never hands its own URL
to a handler), EPISODE_INDEX (the index file), EPISODE_EMBEDDER (see embedding.py).
"""
import json
import os
import sys

import psycopg

from embedding import chunks, load
from vector_index import VectorIndex


def database():
    url = os.environ.get("EPISODES_DATABASE_URL")
    if not url:
        raise RuntimeError("EPISODES_DATABASE_URL is not set: the handler needs the episodes database")
    return psycopg.connect(url, connect_timeout=5)


def think(change):
    episode = int(change["key"])
    if change["op"] == "delete":
        return {"episode": episode, "delete": True}
    row = change["row"]
    embed, name = load()
    texts = chunks(row["title"], row["body"])
    return {"episode": episode, "version": row["version"], "chunks": texts, "vectors": embed(texts), "embedder": name}


def execute(prepared):
    index = VectorIndex()
    if prepared.get("delete"):
        return {"episode": prepared["episode"], "removedChunks": index.delete_episode(prepared["episode"])}
    replaced = index.replace_episode(prepared["episode"], prepared["version"], prepared["chunks"], prepared["vectors"])
    return {"episode": prepared["episode"], "version": prepared["version"], "chunks": len(prepared["chunks"]),
            "replaced": replaced}


def integrate(prepared):
    if prepared.get("delete"):
        return {"episode": prepared["episode"], "deleted": True}
    with database() as db:
        marked = db.execute("""
            UPDATE episodes SET sync_status = 'synced', synced_at = now(), sync_error = NULL
            WHERE id = %s AND version = %s""", [prepared["episode"], prepared["version"]]).rowcount
    # Not marked: the episode changed again meanwhile, and its next session marks it.
    return {"episode": prepared["episode"], "version": prepared["version"], "marked": marked == 1}


def mark_failed(prepared, error):
    """Best effort: the row says why it is not synced yet (the step is retried regardless). Any
    version of the row may be marked: an episode's runs never overlap, so its last run, which
    marks `synced`, always comes after this one."""
    if not prepared or prepared.get("delete"):
        return
    try:
        with database() as db:
            db.execute("UPDATE episodes SET sync_status = 'failed', sync_error = %s WHERE id = %s",
                       [f"version {prepared['version']}: {error}"[:2000], prepared["episode"]])
    except Exception:
        pass


def main():
    document = json.load(sys.stdin)
    change = document.get("change")
    if not change:
        raise SystemExit("not a watch session: expected a 'change' in the handler document")
    if change.get("rowError"):
        raise SystemExit(f"episode {change.get('key')}: {change['rowError']}")
    step = document["step"]
    prepared = document["previous"].get(f"{document['phase']}.THINK")
    try:
        if step == "THINK":
            result = think(change)
        elif step == "EXECUTE":
            result = execute(prepared)
        else:
            result = integrate(prepared)
    except Exception as error:
        message = f"{step} of episode {change.get('key')} failed: {type(error).__name__}: {error}"
        mark_failed(prepared, message)
        print(message, file=sys.stderr)
        sys.exit(1)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
