"""``python -m chainrule``: the same as the ``chainrule`` command (see :mod:`chainrule.cli`)."""
import sys

from chainrule.cli import main

sys.exit(main())
