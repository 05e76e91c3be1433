"""Container health check of a service image: is `/healthz` answering on the API or worker port?

Usage: `python healthcheck.py ORDER_ 8001`. One image runs either the API (on `<PREFIX>PORT`) or
the worker (on `<PREFIX>WORKER_PORT`, or the API port + 100), so both ports are tried. Standard
library only: the image has no curl.
"""

import os
import sys
import urllib.request


def ports(prefix: str, default_port: int) -> list[int]:
    """The API port and the worker port, as the service computes them."""
    api = int(os.environ.get(f"{prefix}PORT") or default_port)
    worker = int(os.environ.get(f"{prefix}WORKER_PORT") or 0) or api + 100
    return [api, worker]


def healthy(port: int) -> bool:
    """Whether `/healthz` answers 200 on this port of the container."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=3) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def main() -> int:
    """Exit 0 when either port answers."""
    prefix, default_port = sys.argv[1], int(sys.argv[2])
    return 0 if any(healthy(p) for p in ports(prefix, default_port)) else 1


if __name__ == "__main__":
    sys.exit(main())
