"""``python -m conservae_lib run --profile paper``: see :mod:`conservae_lib.book.cli`."""
import sys

try:
    from .book.cli import main

    code = main()
except KeyboardInterrupt:  # Ctrl-C outside a chapter (start-up, argument parsing): the same one line
    from .book.cli import INTERRUPTED

    print(INTERRUPTED, file=sys.stderr)
    code = 130
sys.exit(code)
