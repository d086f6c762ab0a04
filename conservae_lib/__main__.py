"""``python -m conservae_lib run --profile paper``: see :mod:`conservae_lib.pipeline`."""
import sys

from .pipeline import main

sys.exit(main())
