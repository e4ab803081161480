"""`python -m crawler.cli`: the same as the `policytrail` command."""

from crawler.cli import main

main()
