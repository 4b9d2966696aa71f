"""The same Python work two ways: `work_item.py ITEM` (a command per item) or
`work_item.py --stdio` (a long-lived processor --stdio worker). The work: a SHA-256 of the item,
after importing what a typical worker imports."""
import hashlib
import json
import sys
import urllib.parse  # noqa: F401  (what real workers pay at start)
import decimal  # noqa: F401


def work(item: str) -> str:
    return hashlib.sha256(item.encode()).hexdigest()


if sys.argv[1:] == ["--stdio"]:
    for line in sys.stdin:
        work(line.rstrip("\n"))
        sys.stdout.write("ok\n")
        sys.stdout.flush()
else:
    json.dumps(work(sys.argv[1]))
