from stacksim.cli import main

raise SystemExit(main())
