"""Run domlint as `python -m domlint`."""

from .cli import main

raise SystemExit(main())
