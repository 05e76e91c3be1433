"""`python -m xborder_devstack`."""

from xborder_devstack.cli import main

main()
