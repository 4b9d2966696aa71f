#!/bin/sh
# A long-lived shell worker for `processor --stdio -- sh examples/worker.sh`.
# Reads one item per line, answers "ok" or "fail: reason" on stdout, one line per item.
# Anything the work prints must go to stderr or a file: stdout carries only the answers.
# This example treats each item as a file path and appends its SHA-256 to $RESULTS (or stderr).
out=${RESULTS:-/dev/stderr}
while IFS= read -r item; do
    if [ -f "$item" ] && sum=$(sha256sum -- "$item"); then
        printf '%s\n' "$sum" >> "$out"
        echo ok
    else
        echo "fail: no such file: $item"
    fi
done
