"""``python -m conservae_lib run --profile paper``: see :mod:`conservae_lib.tooling.cli`."""
import sys

try:
    from conservae_lib.tooling.cli import main

    code = main()
except KeyboardInterrupt:  # Ctrl-C outside a chapter (start-up, argument parsing): the same one line
    from conservae_lib.tooling.cli import INTERRUPTED

    print(INTERRUPTED, file=sys.stderr)
    code = 130
sys.exit(code)
