"""``python -m tutormatch``: the command line, as ``tutormatch``."""

from tutormatch.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
