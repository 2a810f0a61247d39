import pytest

import tutormatch as tm
from tutormatch import datasets

MOVED = ["example_academie", "example_frames", "example_problem", "synthetic_instance", "write_example"]


@pytest.mark.parametrize("name", MOVED)
def test_old_name_warns_and_is_the_new_one(name: str) -> None:
    with pytest.warns(
        DeprecationWarning, match=rf"tutormatch\.scenarios\.{name} moved to tutormatch\.datasets"
    ):
        old = getattr(tm.scenarios, name)
    assert old is getattr(datasets, name)


def test_from_import_warns() -> None:
    with pytest.warns(DeprecationWarning, match="moved to tutormatch.datasets.example_frames"):
        from tutormatch.scenarios import example_frames
    assert example_frames is datasets.example_frames


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        tm.scenarios.nothing  # noqa: B018
