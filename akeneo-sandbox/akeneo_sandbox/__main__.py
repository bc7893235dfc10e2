"""Allow `python -m akeneo_sandbox serve ...`."""

from akeneo_sandbox.cli import main

raise SystemExit(main())
