"""Run hsvc as ``python -m hsvc``."""

from hsvc.entry import main

main()
