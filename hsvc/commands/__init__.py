"""One module per CLI command: options in, a report (plain data, :mod:`hsvc.core.report`) out.

No formatting and no exit codes here: the CLI renders the report and reads its
``ok``. Adapters are imported inside functions so that ``hsvc --help`` loads none
of kubernetes, dnspython or PyYAML.
"""
