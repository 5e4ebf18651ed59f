"""Pull Polku's events over HTTP, as a subscriber without Kafka would.

    python examples/http_feed_consumer.py --url http://127.0.0.1:8000 --service enrolment \\
        --token "$TOKEN" [--type fi.polku.enrolment.ParticipantEnrolled ...] [--follow]

It reads ``GET /<service>/events?after=N`` page by page, passing ``next_after`` back as
``after``. ``next_after`` is null when a page reached the head of the log:

- without ``--follow`` that is the end, and it stops;
- with ``--follow`` it continues from ``head`` with a long-poll (``wait=``, at most 20 s), so
  an idle feed costs one request per ``--wait`` seconds instead of a busy loop.

The position and the ids already handled are kept in ``--state`` (JSON), so a restart resumes
where it stopped and an event seen twice is handled once. The token needs the ``service``,
``auditor`` or ``hr_admin`` role. Uses only the standard library.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True, help="Polku's base URL.")
    parser.add_argument("--service", required=True, choices=["enrolment", "assessment"])
    parser.add_argument("--token", required=True, help="A bearer token (service role).")
    parser.add_argument("--type", action="append", default=[], help="Only this type; repeat.")
    parser.add_argument("--limit", type=int, default=500)
    parser.add_argument("--follow", action="store_true", help="Long-poll at the head.")
    parser.add_argument("--wait", type=int, default=20, help="Long-poll seconds (max 20).")
    parser.add_argument("--max-polls", type=int, default=0, help="With --follow: stop after.")
    parser.add_argument("--state", default="feed-state.json")
    return parser.parse_args(argv)


def get_page(args: argparse.Namespace, after: int, wait: int) -> dict[str, Any]:
    query = [("after", after), ("limit", args.limit), ("wait", wait)]
    query += [("type", t) for t in args.type]
    url = f"{args.url.rstrip('/')}/{args.service}/events?{urllib.parse.urlencode(query)}"
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {args.token}"})
    with urllib.request.urlopen(request, timeout=wait + 15) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


def handle(event: dict[str, Any]) -> None:
    """This example's processing: one line per event on standard output."""
    print(
        json.dumps({k: event.get(k) for k in ("id", "type", "subject", "sequence", "dataschema")}),
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    path = Path(args.state)
    state = json.loads(path.read_text()) if path.exists() else {"after": 0, "seen": []}
    after, seen = state["after"], set(state["seen"])
    polls_at_head = 0
    wait = 0
    while True:
        page = get_page(args, after, wait)
        for event in page["events"]:
            if event["id"] not in seen:  # delivered again: handled once
                handle(event)
                seen.add(event["id"])
        # next_after is null at the head: continue from head next time.
        after = page["head"] if page["next_after"] is None else page["next_after"]
        path.write_text(json.dumps({"after": after, "seen": sorted(seen)}))
        if page["next_after"] is not None:
            wait = 0  # more to read now
            continue
        if not args.follow:
            return 0
        polls_at_head += 1
        if args.max_polls and polls_at_head > args.max_polls:
            return 0
        wait = min(args.wait, 20)


if __name__ == "__main__":
    sys.exit(main())
