"""`customs-svc api|migrate`: the commands of customs-svc's image."""

from customs_svc.bootstrap import COMMANDS
from xborder_platform.cli import main as run


def main() -> None:
    """Entry point of the `customs-svc` console script."""
    run(COMMANDS)


if __name__ == "__main__":
    main()
