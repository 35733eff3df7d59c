#!/usr/bin/env python3
"""Records desktop activity and file changes into the local SQLite file, as the host's agent
does: `python producer.py --db host-a.db --count 1000 --interval-ms 5`. It neither knows nor
cares whether PostgreSQL is reachable."""
import argparse
import datetime
import random
import time

from local_store import open_store


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True)
    parser.add_argument("--count", type=int, default=1000, help="rows to record (activity and file changes alternate)")
    parser.add_argument("--interval-ms", type=float, default=10)
    args = parser.parse_args()
    db = open_store(args.db)
    apps = ["editor", "browser", "terminal", "mail"]
    for n in range(args.count):
        now = datetime.datetime.now(datetime.timezone.utc).isoformat()
        if n % 2 == 0:
            db.execute("INSERT INTO activity (recorded_at, app, title) VALUES (?, ?, ?)",
                       [now, random.choice(apps), f"window {n}"])
        else:
            db.execute("INSERT INTO file_changes (recorded_at, path, change) VALUES (?, ?, ?)",
                       [now, f"/home/user/notes/{n % 37}.md", random.choice(["created", "modified", "deleted"])])
        time.sleep(args.interval_ms / 1000)
    print(f"recorded {args.count} rows", flush=True)


if __name__ == "__main__":
    main()
