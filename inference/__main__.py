"""``python -m inference {predict,train,list-models}``."""

import os

# OpenMP threads that spin while waiting thrash badly when other processes share the cores
# (measured: a 0.6 s training step became 5-10 s on a busy 2-core machine); passive waiting
# costs nothing measurable when the machine is idle. Must be set before torch is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from .cli import main  # noqa: E402

raise SystemExit(main())
