"""Run one stand-in in the foreground: `python -m campaigns.standins notion|resend --port P`.

It prints one line with its base URL (point NOTION_API_URL or RESEND_API_URL at it) and serves
until Ctrl-C or SIGTERM. With `--state FILE` the data survives restarts, for a demo sandbox.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from campaigns.standins._server import StandInServer
from campaigns.standins.notion import NotionStandIn
from campaigns.standins.resend import ResendStandIn


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m campaigns.standins",
        description="Serve a local, wire-compatible stand-in for the Notion or Resend API.",
    )
    parser.add_argument("service", choices=["notion", "resend"])
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free one)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--token",
        "--api-key",
        dest="secret",
        default=None,
        help="the only Notion token / Resend API key accepted (default: any)",
    )
    parser.add_argument(
        "--rate", type=float, default=None, help="requests per second before answering 429"
    )
    parser.add_argument("--burst", type=int, default=None, help="requests allowed at once")
    parser.add_argument(
        "--state", type=Path, default=None, help="JSON file that keeps the data between runs"
    )
    return parser.parse_args(argv)


def build(args: argparse.Namespace) -> StandInServer:
    if args.service == "notion":
        return NotionStandIn(
            token=args.secret,
            port=args.port,
            rate_limit=args.rate,
            burst=args.burst or 3,
            state_path=args.state,
            host=args.host,
        )
    return ResendStandIn(
        api_key=args.secret,
        port=args.port,
        rate_limit=args.rate,
        burst=args.burst or 2,
        state_path=args.state,
        host=args.host,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    server = build(args)
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    url = server.start()
    print(f"{args.service} stand-in listening on {url}", flush=True)
    try:
        while not stopping.wait(0.5):  # a timed wait lets the signal handler run promptly
            pass
    finally:
        server.stop()
    print(f"{args.service} stand-in stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
