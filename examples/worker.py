#!/usr/bin/env python3
"""A long-lived worker for `processor --stdio -- python3 examples/worker.py`.

The processor writes one item per line to stdin and waits for one line on stdout:
"ok" when the item is done, "fail: reason" when it failed (the processor retries it, then moves
it to the dead-letter queue). Import heavy libraries once, at the top: that is the point of --stdio.
With `--stdio-format json` every line is a JSON string instead (items may then hold newlines);
start the worker with `--json` to decode it.

This example counts the words of each item and appends "item<TAB>words" to the file named by
$RESULTS (or writes it to stderr). Replace `work()` with yours.
"""
import json
import os
import sys


def work(item: str) -> None:
    words = len(item.split())
    if words == 0:
        raise ValueError("empty item")
    line = f"{item}\t{words}\n"
    results = os.environ.get("RESULTS")
    if results:
        with open(results, "a", encoding="utf-8") as out:
            out.write(line)
    else:
        sys.stderr.write(line)


def main() -> None:
    as_json = "--json" in sys.argv[1:]
    for raw in sys.stdin:  # one item per line; the loop ends when the processor closes stdin
        raw = raw.rstrip("\n")
        try:
            item = json.loads(raw) if as_json else raw
            work(item)
        except Exception as error:  # any failure of one item is reported, never fatal
            answer = "fail: " + " ".join(str(error).split())
        else:
            answer = "ok"
        sys.stdout.write(answer + "\n")
        sys.stdout.flush()  # the processor waits for this line


if __name__ == "__main__":
    main()
