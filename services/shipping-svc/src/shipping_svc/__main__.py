"""`shipping-svc api|migrate`: the commands of shipping-svc's image."""

from shipping_svc.bootstrap import COMMANDS
from xborder_platform.cli import main as run


def main() -> None:
    """Entry point of the `shipping-svc` console script."""
    run(COMMANDS)


if __name__ == "__main__":
    main()
