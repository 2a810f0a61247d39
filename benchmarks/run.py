"""Run the tutormatch benchmark suite; see benchmarks/README.md.

Usage::

    python benchmarks/run.py                   # the full suite, results in benchmarks/results/
    python benchmarks/run.py --quick           # the short one (`make bench`)
    python benchmarks/run.py --cases 'academie-*' --repeats 5
    python benchmarks/run.py --list            # the cases
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import main  # beside this script, not in the package

if __name__ == "__main__":
    sys.exit(main())
