"""``python -m sim``: the command line, as ``python run.py`` and ``escalation-sim``."""

from sim.cli.commands import main

raise SystemExit(main())
