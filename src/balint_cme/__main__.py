"""`python -m balint_cme` runs the balint-cme command."""

import sys

from balint_cme.cli import main

sys.exit(main())
