"""The root help of the typer app, as it prints it at 80 columns or more.

Generated, and checked, by tests/unit/test_entry.py.
"""

ROOT_HELP = """\
Usage: hsvc [OPTIONS] COMMAND [ARGS]...

  Explain Kubernetes Service and StatefulSet DNS: what cluster DNS must
  answer, what it does answer, and why they differ.

Options:
  --version             Show the version and exit.
  --install-completion  Install completion for the current shell.
  --show-completion     Show completion for the current shell, to copy it or
                        customize the installation.
  -h, --help            Show this message and exit.

Commands:
  records  List the records cluster DNS serves for a Service (or namespace),
           and names it must not.
  resolve  Say what cluster DNS answers for names, why, and (live) what it
           does answer.
  inspect  Compare what cluster DNS must answer for a Service with what it
           answers, row by row.
  lint     Check objects for mistakes that break their DNS names, without
           asking DNS.
  monitor  Check cluster DNS continuously and serve the results as Prometheus
           metrics.
  demo     Replay a small recorded cluster and its DNS on 127.0.0.1, and
           inspect it step by step.
  explain  Print a finding's full explanation and fix, offline (no cluster
           needed).
"""
