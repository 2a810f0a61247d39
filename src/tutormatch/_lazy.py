"""Lazy public names for a package (PEP 562), so that importing it stays cheap.

A package lists where each public name lives; the module that defines it is
imported the first time the name is read, and the value is then cached in the
package's namespace. ``import tutormatch`` therefore loads neither pandas nor
numpy nor a solver: they come with the first name that needs them.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["attach"]


def attach(package: str, names: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Return the ``__getattr__`` and ``__dir__`` of a package with lazy names.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    names : mapping of str to str
        Each public name and the module that defines it; a name that maps to
        ``package + "." + name`` is that subpackage itself.

    Returns
    -------
    tuple of callables
        The package's module-level ``__getattr__`` and ``__dir__``.
    """
    public = sorted(names)

    def lazy_getattr(name: str) -> Any:
        where = names.get(name)
        if where is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(where)
        value = module if where == f"{package}.{name}" else getattr(module, name)
        # Cached so that the next read is a plain attribute, as if imported eagerly.
        setattr(sys.modules[package], name, value)
        return value

    def lazy_dir() -> list[str]:
        return list(public)

    return lazy_getattr, lazy_dir
