"""Run the tutormatch benchmark suite; see benchmarks/README.md.

Usage::

    python benchmarks/run.py                   # the full suite, results in benchmarks/results/
    python benchmarks/run.py --quick           # the short one (as `tutormatch bench --quick`)
    python benchmarks/run.py --cases 'academie-*' --repeats 5
    python benchmarks/run.py --list            # the cases
"""

from __future__ import annotations

import sys

from tutormatch._bench import main

if __name__ == "__main__":
    sys.exit(main())
