"""Command line: `python -m stripe_emulator --port 12111 --webhook-url ... --webhook-secret ...`."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading

from . import EmulatorServer
from .store import EmulatorConfig
from .versions import KNOWN_VERSIONS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stripe_emulator",
                                     description="Local stand-in for the Stripe v1 API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111, help="0 picks a free port")
    parser.add_argument("--webhook-url", default=os.environ.get("STRIPE_EMULATOR_WEBHOOK_URL"))
    parser.add_argument("--webhook-secret",
                        default=os.environ.get("STRIPE_EMULATOR_WEBHOOK_SECRET"))
    parser.add_argument("--public-url", default=os.environ.get("STRIPE_EMULATOR_PUBLIC_URL"),
                        help="base URL put in session.url (default: the URL of the request)")
    parser.add_argument("--webhook-events",
                        default=os.environ.get("STRIPE_EMULATOR_WEBHOOK_EVENTS", "*"),
                        help="comma-separated event types of the default endpoint (default: *)")
    parser.add_argument("--api-version", default=os.environ.get("STRIPE_EMULATOR_API_VERSION"),
                        help="the account's default API version")
    parser.add_argument("--delivery-mode", choices=("auto", "hold"), default="auto")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    config = EmulatorConfig(webhook_url=args.webhook_url, webhook_secret=args.webhook_secret,
                            public_url=args.public_url, delivery_mode=args.delivery_mode,
                            webhook_events=[e.strip() for e in args.webhook_events.split(",")
                                            if e.strip()])
    if args.api_version:
        if args.api_version not in KNOWN_VERSIONS:
            parser.error(f"unknown API version {args.api_version}")
        config.api_version = args.api_version
    server = EmulatorServer(config, host=args.host, port=args.port).start()
    print(f"stripe emulator listening on {server.url}", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
