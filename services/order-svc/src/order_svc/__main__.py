"""`order-svc api|migrate`: the commands of order-svc's image."""

from order_svc.bootstrap import COMMANDS
from xborder_platform.cli import main as run


def main() -> None:
    """Entry point of the `order-svc` console script."""
    run(COMMANDS)


if __name__ == "__main__":
    main()
