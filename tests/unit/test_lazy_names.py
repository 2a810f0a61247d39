"""The lazy public names (PEP 562) behave as the eager imports did."""

from __future__ import annotations

import subprocess
import sys

import pytest

import tutormatch as tm


@pytest.mark.parametrize("package", [tm, sys.modules["tutormatch.solve"]], ids=["tutormatch", "solve"])
def test_every_public_name_resolves(package: object) -> None:
    names = package.__all__  # type: ignore[attr-defined]
    assert dir(package) == sorted(names)
    for name in names:
        assert getattr(package, name) is not None, name


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="module 'tutormatch' has no attribute 'nope'"):
        _ = tm.nope  # type: ignore[attr-defined]


def test_solve_is_the_function_whatever_loads_first() -> None:
    # `tutormatch.solve` is a subpackage and the main function: importing a
    # module of the subpackage before reading `tm.solve` must not shadow it.
    code = (
        "import tutormatch.solve._assignment, tutormatch.report, tutormatch as tm; "
        "from tutormatch import solve; print(callable(tm.solve), tm.solve is solve)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True"]
    assert tm.solve is sys.modules["tutormatch.solve._solve"].solve
