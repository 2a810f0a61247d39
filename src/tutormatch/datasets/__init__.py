"""Data sets: the shipped example académie and synthetic instances for tests and benchmarks."""

from tutormatch.datasets._example import example_frames, example_problem, write_example
from tutormatch.datasets._synthetic import example_academie, synthetic_instance

__all__ = [
    "example_academie",
    "example_frames",
    "example_problem",
    "synthetic_instance",
    "write_example",
]


def __dir__() -> list[str]:
    return list(__all__)
