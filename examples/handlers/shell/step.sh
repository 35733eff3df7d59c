#!/bin/sh
# A Baton command handler in POSIX sh: delivers each phase of a session to a drop folder (a
# partner's inbox, an SFTP or NFS share) exactly once per step.
#
#   BATON_HANDLER="command:/path/to/step.sh /srv/outbox" baton worker
#
#   THINK      check that the drop folder takes files; name the file
#   EXECUTE    deliver the step document (the session's input and earlier results) as that file
#   INTEGRATE  say whether the file still waits in the folder or was picked up
#
# It parses no JSON: what it needs comes in the environment Baton sets for a command handler
# (BATON_SESSION_ID, BATON_PHASE, BATON_STEP, BATON_ATTEMPT, BATON_IDEMPOTENCY_KEY,
# BATON_TASK_ID); the document itself is on stdin. What it prints is the step's result (JSON);
# exit 0 is success, any other exit fails the attempt, which Baton retries.
#
# Baton delivers a step at least once: after a crash, EXECUTE can run again though an earlier
# attempt delivered, and the partner may have taken the file away meanwhile. So a delivery is
# recorded under the step's idempotency key (the same on every attempt of the step), and a
# recorded delivery is answered from the record instead of being made again. Only a crash
# between the delivery and its record can still deliver twice.
set -eu

folder=${1:?usage: step.sh <drop folder>}
document=$(cat)  # always read stdin, whatever the step needs

hash() { printf '%s' "$1" | sha256sum | cut -c1-16; }
# One file per session and phase, named so that every step of the phase agrees on it.
file="$(hash "$BATON_SESSION_ID/$BATON_PHASE").json"
record="$folder/.delivered/$(hash "$BATON_IDEMPOTENCY_KEY").json"

mkdir -p "$folder/.delivered"

case "$BATON_STEP" in
THINK)
    if [ ! -w "$folder" ]; then
        echo "the drop folder $folder does not take files" >&2
        exit 1
    fi
    printf '{"file": "%s"}\n' "$file"
    ;;
EXECUTE)
    if [ -f "$record" ]; then
        cat "$record"  # delivered by an earlier attempt of this step
        exit 0
    fi
    incoming=$(mktemp "$folder/.incoming.XXXXXX")
    printf '%s\n' "$document" > "$incoming"
    chmod 644 "$incoming"
    mv "$incoming" "$folder/$file"  # the partner sees the whole file or none of it
    printf '{"delivered": "%s", "bytes": %s, "attempt": %s}\n' \
        "$file" "$(wc -c < "$folder/$file" | tr -d ' ')" "$BATON_ATTEMPT" > "$record.new"
    mv "$record.new" "$record"
    cat "$record"
    ;;
INTEGRATE)
    if [ -f "$folder/$file" ]; then waiting=true; else waiting=false; fi
    printf '{"file": "%s", "waiting": %s}\n' "$file" "$waiting"
    ;;
esac
