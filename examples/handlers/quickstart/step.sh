#!/bin/sh
# The quick start's handler: the document arrives on stdin, the step's result leaves on stdout as JSON.
doc=$(cat)                                   # session input and earlier results, as JSON
echo "working on $BATON_STEP of phase $BATON_PHASE (${#doc} bytes in)" >&2   # kept if the attempt fails
printf '{"did": "%s", "phase": %s}\n' "$BATON_STEP" "$BATON_PHASE"
