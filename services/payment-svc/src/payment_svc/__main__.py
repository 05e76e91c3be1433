"""`payment-svc api|migrate`: the commands of payment-svc's image."""

from payment_svc.bootstrap import COMMANDS
from xborder_platform.cli import main as run


def main() -> None:
    """Entry point of the `payment-svc` console script."""
    run(COMMANDS)


if __name__ == "__main__":
    main()
