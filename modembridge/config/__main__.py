"""`python -m modembridge.config [--write] [PATH]`: check (or rewrite) the generated parts of
docs/configuration.md against the schema."""

from .docs import main

raise SystemExit(main())
