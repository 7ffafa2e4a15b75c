from modembridge.cli import main

raise SystemExit(main())
