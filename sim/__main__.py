"""``python -m sim``: the command line, as ``python run.py`` and ``escalation-sim``."""

from sim.cli.main import main

raise SystemExit(main())
