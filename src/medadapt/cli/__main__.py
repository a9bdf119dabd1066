"""``python -m medadapt.cli`` = the ``medadapt`` command."""

from medadapt.cli.main import main

main()
