#!/usr/bin/env bash
# One interleaved comparison of Baton with pgqueuer through the peer benchmark's driver
# (../shared/peers/bench.py), plus limit.py (the database's own ceiling for Baton-shaped work),
# all on the peers' cluster: RUNS rounds (default 1); each round runs every (metric, peer,
# config) once, in turn, so that noise on the shared machine falls on all of them alike.
# Then summarize.py builds SUMMARY.md in the results folder.
#
#   ../shared/peers/setup.sh                      # once: venv and cluster on 127.0.0.1:55432
#   swift build -c release --scratch-path .build-release
#   RUNS=1 bench/peers.sh                         # results in /tmp/baton-peers-<time>/
#
# OUT sets the results folder, METRICS limits the metrics, BATON_BIN the baton binary.
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
PEERS="${PEERS_DIR:-$HERE/../../shared/peers}"
PY=/tmp/peersvenv/bin/python
RUNS=${RUNS:-1}
METRICS=${METRICS:-"throughput latency chain"}
OUT=${OUT:-/tmp/baton-peers-$(date +%Y%m%d-%H%M%S)}
[ -x "$PY" ] || { echo "no $PY: run $PEERS/setup.sh first" >&2; exit 2; }
[ -f "$PEERS/bench.py" ] || { echo "the peer benchmark is not at $PEERS (set PEERS_DIR)" >&2; exit 2; }
mkdir -p "$OUT"
cd "$PEERS"

{
  echo "# $(date -Is)"
  echo "baton $(git -C "$HERE/.." rev-parse --short HEAD) $(git -C "$HERE/.." status --porcelain | grep -q . && echo '(with local changes)')"
  "$PY" -m pip freeze | grep -i -E '^(pgqueuer|asyncpg|uvloop)=='
  psql -h 127.0.0.1 -p 55432 -U postgres -qAt -c "SELECT version()"
  psql -h 127.0.0.1 -p 55432 -U postgres -qAt -F ' = ' -c \
    "SELECT name, setting FROM pg_settings WHERE name IN ('synchronous_commit','fsync','shared_buffers','max_wal_size','checkpoint_timeout','autovacuum') ORDER BY name"
  echo "nproc = $(nproc)"
} > "$OUT/environment.txt"

for run in $(seq 1 "$RUNS"); do
  for metric in $METRICS; do
    for pc in "baton default" "baton batch100" "baton batch100x2" "pgqueuer default" "pgqueuer batch100"; do
      set -- $pc
      echo "=== run $run $metric $1 $2 $(date +%T) load $(cut -d' ' -f1 /proc/loadavg)"
      if ! "$PY" bench.py --peer "$1" --adapter-file "$HERE/peer_baton.py" --metric "$metric" --config "$2" \
           --run "$run" --out "$OUT" > "$OUT/log_${1}_${metric}_${2}_run${run}.txt" 2>&1; then
        echo "run $run $metric $1 $2 FAILED, see log_${1}_${metric}_${2}_run${run}.txt" | tee -a "$OUT/failures.txt"
      fi
    done
  done
  echo "=== run $run limit.py $(date +%T) load $(cut -d' ' -f1 /proc/loadavg)"
  "$PY" limit.py --rtt | tee "$OUT/limit_run${run}.txt"
done
"$PY" summarize.py "$OUT"
