"""Run hsvc as ``python -m hsvc``."""

from hsvc.cli import main

main()
