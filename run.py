"""Command line of escalation-sim: ``python run.py --help``."""

from sim.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
