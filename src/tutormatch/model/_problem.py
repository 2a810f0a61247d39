"""The :class:`Problem`: tutors, establishments and the rules, validated once."""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from tutormatch.errors import InputError
from tutormatch.io._gazetteer import load_communes
from tutormatch.io._read import read_table
from tutormatch.model._columns import ColumnReader
from tutormatch.model._eligibility import (
    Candidates,
    RemoteClasses,
    build_candidates,
    build_remote_classes,
    classify_pairs,
    pair_keys,
    rejection_reason,
)
from tutormatch.model._fields import PAIR_FIELDS, PARAMETER_RANGES, check_parameter
from tutormatch.model._rules import (
    DEFAULT_CAPACITY,
    DEFAULT_MAX_DISTANCE_KM,
    DEFAULT_VISITS_PER_YEAR,
    normalise_role_help,
)
from tutormatch.model._tables import EstablishmentTable, TableSource, TutorTable

if TYPE_CHECKING:
    import scipy.sparse as sp
    from scipy.spatial import cKDTree

__all__ = ["DISTANCE_UNITS", "Problem"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
PairsLike = pd.DataFrame | Iterable[tuple[str, str]] | None

_DEFAULT_DETOUR = 1.3
#: Units of a distance matrix: road km, or travel time in minutes.
DISTANCE_UNITS = ("km", "min")
_SHOWN = 5  # offending pairs listed in a message; the error keeps them all


@dataclass(frozen=True)
class _PairRows:
    """Pairs as (tutor row, establishment row) indices, with where each came from.

    ``rows`` holds the label of the user's row of each pair (line numbers of a
    CSV file, index labels of a DataFrame), or is ``None`` when unknown.
    """

    table: str
    pairs: IntArray
    rows: list[Any] | None = None
    row_word: str = "row"
    columns: Mapping[str, Any] | None = None

    def where(self, i: int) -> str:
        """Return `` on line 3`` for pair ``i``, or ``""`` when rows are unknown."""
        return f" on {self.row_word} {self.rows[i]}" if self.rows is not None else ""


def _pairs_source(pairs: PairsLike, name: str) -> TableSource | None:
    """Wrap the user's fixed or forbidden pairs in a :class:`TableSource`."""
    if pairs is None:
        return None
    if isinstance(pairs, TableSource):
        return pairs
    if isinstance(pairs, pd.DataFrame):
        return TableSource(pairs, name)
    if isinstance(pairs, str | bytes | PathLike):
        raise InputError(
            f"{name}: got a path ({str(pairs)!r}) where a DataFrame or (tutor_id, uai) "
            "pairs were expected. Read CSV files with "
            f"Problem.from_csv(..., {name}=path) or tutormatch.io.read_csv_table.",
            table=name,
        )
    rows = list(pairs)
    for i, row in enumerate(rows):
        if isinstance(row, str | bytes) or not hasattr(row, "__len__") or len(row) != 2:
            raise InputError(
                f"{name}: item {i} is {row!r}; expected a (tutor_id, uai) pair. Pass a "
                "list of 2-tuples or a DataFrame with columns tutor_id and uai.",
                table=name,
                rows=[i],
                values=[row],
            )
    frame = pd.DataFrame([tuple(row) for row in rows], columns=["tutor_id", "uai"], dtype=object)
    return TableSource(frame, name)


def _read_pairs(
    source: TableSource | None,
    tutors: TutorTable,
    establishments: EstablishmentTable,
    *,
    tutor_id: str = "tutor_id",
    establishment_id: str = "uai",
) -> _PairRows | None:
    """Turn a (tutor_id, uai) table into index pairs, naming unknown ids.

    Repeated pairs are kept once, with the row where they first appear.
    """
    if source is None:
        return None
    empty = np.empty((0, 2), dtype=np.int64)
    if len(source.frame) == 0 and len(source.frame.columns) == 0:
        return _PairRows(source.name, empty, [], source.row_word)
    reader = _pair_reader(source, tutor_id, establishment_id)
    tids = reader.text("tutor_id")
    uais = np.array([u.upper() for u in reader.text("uai")], dtype=object)
    # Rows without a tutor are the uncovered establishments of an
    # assignment.csv given back as is: they pair nothing.
    given = tids != ""
    t_idx = _index_of(tutors.id, tids)
    e_idx = _index_of(establishments.id, uais)
    if (given & (t_idx < 0)).any():
        raise reader.fail(
            "tutor_id",
            given & (t_idx < 0),
            "must name tutors of the tutors table",
            "Correct the ids or drop these rows.",
        )
    if (given & (e_idx < 0)).any():
        raise reader.fail(
            "uai",
            given & (e_idx < 0),
            "must name establishments of the establishments table",
            "Correct the UAI or drop these rows.",
        )
    if not given.any():
        return _PairRows(source.name, empty, [], source.row_word, reader.report())
    pairs, first = np.unique(np.column_stack((t_idx[given], e_idx[given])), axis=0, return_index=True)
    labels = reader.row_labels(given)
    return _PairRows(
        source.name, pairs.astype(np.int64), [labels[i] for i in first], source.row_word, reader.report()
    )


def _pair_reader(source: TableSource, tutor_id: str, establishment_id: str) -> ColumnReader:
    """Open a pairs table; the names given as ``tutor_id`` and ``establishment_id`` win."""
    names = {k: (v,) for k, v in (("tutor_id", tutor_id), ("uai", establishment_id)) if k != v}
    reader = ColumnReader(
        source.frame,
        table=source.name,
        id_column="tutor_id",
        row_word=source.row_word,
        fields=PAIR_FIELDS,
        names=names or None,
    )
    reader.require("tutor_id", "uai")
    return reader


def _index_of(ids: npt.NDArray[np.object_], wanted: npt.NDArray[np.object_]) -> IntArray:
    if not len(wanted):
        return np.empty(0, dtype=np.int64)
    if not len(ids):
        return np.full(len(wanted), -1, dtype=np.int64)
    return np.asarray(pd.Index(ids).get_indexer(pd.Index(wanted)), dtype=np.int64)


def _listed(items: list[str]) -> str:
    more = f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else ""
    return "; ".join(items[:_SHOWN]) + more


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def _gazetteer_frame(
    gazetteer: pd.DataFrame | str | PathLike[str] | None,
) -> pd.DataFrame:
    """Return the commune table indexed by INSEE code, with lon and lat."""
    if not isinstance(gazetteer, pd.DataFrame):
        return load_communes(gazetteer)
    missing = [c for c in ("lon", "lat") if c not in gazetteer.columns]
    if missing:
        raise InputError(
            f"gazetteer: missing column(s) {', '.join(map(repr, missing))}; a "
            "gazetteer needs lon and lat (WGS84 degrees), indexed by INSEE code "
            "or with a column 'insee_code'.",
            table="gazetteer",
            column=missing[0],
        )
    if "insee_code" in gazetteer.columns and gazetteer.index.name != "insee_code":
        # Codes read as numbers lose the leading zero of 01xxx-09xxx.
        codes = gazetteer["insee_code"].astype(str).str.zfill(5)
        return gazetteer.set_index(pd.Index(codes, name="insee_code"))
    return gazetteer


def _per_row(name: str, value: npt.ArrayLike, n: int, what: str) -> npt.NDArray[Any]:
    """Broadcast a scalar or check an array of one value per tutor or establishment."""
    array = np.asarray(value)
    if array.ndim > 1 or (array.ndim == 1 and len(array) != n):
        raise InputError(
            f"{name}: expected one value or {n} values (one per {what}); got shape "
            f"{array.shape}. Pass a scalar or a 1-D array of length {n}."
        )
    return np.broadcast_to(array, n)


@dataclass(frozen=True, eq=False)
class Problem:
    """Tutors, establishments and the rules of one assignment, validated once.

    Build it with :meth:`from_frames`, :meth:`from_csv` or :meth:`from_arrays`;
    then pass it to :func:`tutormatch.solve`. A problem is immutable and
    solving leaves no state on it. Ids stay at the edges: internally tutors
    and establishments are rows of :attr:`tutors` and :attr:`establishments`,
    sorted by id, so the same rows in any order give the same problem.

    Attributes
    ----------
    tutors : TutorTable
    establishments : EstablishmentTable
    max_distance_km : float
        On-site tutoring limit (great-circle km, or the unit of the user's
        matrix); ``inf`` for none.
    allow_remote : bool
        Whether pairs beyond the limit may be tutored remotely (when both
        sides accept it).
    remote_penalty_km : float or None
        Cost of a remote pair in km-equivalent of yearly travel. ``None``:
        the yearly travel of an on-site pair at the limit
        (``2 x visits_per_year x max_distance_km``), so that no on-site pair
        costs more than a remote one.
    role_help : mapping
        Role -> kinds of help it gives.
    detour_factor : float
        Road km per great-circle km, used by the cost reports.
    all_or_nothing : bool
        Each tutor takes either no establishment or exactly their capacity
        (the call's "two establishments per tutor").
    fixed, forbidden : ndarray of int, shape (n, 2)
        (tutor row, establishment row) pairs that must / must not be chosen.
    distance_matrix : scipy.sparse.csr_array or None
        User-given distances (tutors x establishments); stored entries are the
        only pairs with a known route.
    distance_unit : {"km", "min"}
        Unit of the distances: ``"min"`` only with a matrix of travel times,
        which the solve uses as it would km; the cost and distance reports
        need km and refuse such a problem (see :meth:`from_arrays`).
    sources : mapping
        How each input was read (file dialects), for the record.
    columns : mapping
        For each table read (``"tutors"``, ``"establishments"``,
        ``"fixed_pairs"``, ``"forbidden_pairs"``): ``{"source": file or
        table name, "read": {field: column as the user spelled it},
        "ignored": [columns that match no field], "same_as": {second column
        for a field: field}}``. Empty for problems built from arrays.

    Notes
    -----
    Ranges (see ``docs/inputs.md``): ``max_distance_km`` from 0 to 40,000
    or ``inf``; ``remote_penalty_km`` from 0 to 1e8; ``detour_factor`` from 1
    to 10. Values outside are refused with an :class:`InputError`.
    """

    tutors: TutorTable
    establishments: EstablishmentTable
    max_distance_km: float = DEFAULT_MAX_DISTANCE_KM
    allow_remote: bool = True
    remote_penalty_km: float | None = None
    role_help: Mapping[str, frozenset[str]] = field(default_factory=lambda: normalise_role_help(None))
    detour_factor: float = _DEFAULT_DETOUR
    all_or_nothing: bool = False
    fixed: IntArray = field(default_factory=lambda: np.empty((0, 2), dtype=np.int64))
    forbidden: IntArray = field(default_factory=lambda: np.empty((0, 2), dtype=np.int64))
    distance_matrix: Any = None
    distance_unit: str = "km"
    sources: Mapping[str, str] = field(default_factory=dict)
    columns: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("max_distance_km", "detour_factor"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
                raise InputError(f"{name} must be a number (math.inf for no limit); got {value!r}.")
        check_parameter("max_distance_km", self.max_distance_km, allow_inf=True)
        if self.remote_penalty_km is not None:
            check_parameter("remote_penalty_km", self.remote_penalty_km)
        check_parameter("detour_factor", self.detour_factor)
        if self.distance_unit not in DISTANCE_UNITS:
            raise InputError(
                f"distance_unit must be one of {', '.join(map(repr, DISTANCE_UNITS))}; "
                f"got {self.distance_unit!r}."
            )
        if self.distance_unit != "km" and self.distance_matrix is None:
            raise InputError(
                f"distance_unit={self.distance_unit!r} needs a distance matrix "
                "(Problem.from_arrays): distances from coordinates are km."
            )
        for name in ("fixed", "forbidden"):
            getattr(self, name).setflags(write=False)
        _check_pair_lists(
            self,
            _PairRows("fixed_pairs", self.fixed),
            _PairRows("forbidden_pairs", self.forbidden),
        )

    # -- constructors ----------------------------------------------------

    @classmethod
    def from_frames(
        cls,
        tutors: pd.DataFrame,
        establishments: pd.DataFrame,
        *,
        tutor_id: str = "tutor_id",
        establishment_id: str = "uai",
        max_distance_km: float = DEFAULT_MAX_DISTANCE_KM,
        allow_remote: bool = True,
        remote_penalty_km: float | None = None,
        fixed_pairs: PairsLike = None,
        forbidden_pairs: PairsLike = None,
        role_help: Mapping[str, Iterable[str]] | None = None,
        detour_factor: float = _DEFAULT_DETOUR,
        all_or_nothing: bool = False,
        default_capacity: int = DEFAULT_CAPACITY,
        default_visits_per_year: float = DEFAULT_VISITS_PER_YEAR,
        gazetteer: pd.DataFrame | str | PathLike[str] | None = None,
    ) -> Problem:
        """Build a problem from a tutors table and an establishments table.

        Parameters
        ----------
        tutors : pandas.DataFrame or geopandas.GeoDataFrame
            One row per tutor. Columns (names matched ignoring case, accents,
            spaces and punctuation; French names accepted, e.g.
            ``Capacité``, ``UAI de rattachement``: see ``docs/inputs.md``):
            ``tutor_id`` (required, unique); a location as ``lon``/``lat``
            (WGS84 degrees), point ``geometry`` (any CRS), ``insee`` (commune
            code) or ``home_uai`` (their own establishment, when it is in
            ``establishments``); ``capacity`` (whole number from 0 to 10,000,
            default 2); ``min_load`` (default 0); ``wave``; ``role`` (SG,
            SGAC, FPAC, AG, AC); ``remote_ok`` (default true); ``max_km``
            (personal limit, up to 40,000); ``vehicle_cv``, ``cia_eur`` and
            ``prior_service_km`` (for the cost reports); ``name``;
            ``commune``. Other columns are ignored and listed in
            :attr:`columns`. Never modified.
        establishments : pandas.DataFrame or geopandas.GeoDataFrame
            One row per establishment: ``uai`` (required, unique, check letter
            verified); location as ``lon``/``lat``, ``geometry`` or ``insee``;
            ``name``, ``kind``, ``commune``; ``wave``; ``priority`` (from
            0.000001 to 1,000,000, default 1); ``need`` (management,
            accounting or both); ``remote_ok`` (default true);
            ``visits_per_year`` (from 0 to 365, default 6);
            ``agence_comptable``.
        tutor_id, establishment_id : str
            Names of the id columns when they differ from the defaults.
        max_distance_km : float, default 60
            On-site tutoring limit, great-circle km; ``math.inf`` for none.
        allow_remote : bool, default True
            Let pairs beyond the limit be tutored remotely when both sides
            accept it.
        remote_penalty_km : float, optional
            Cost of a remote pair in km-equivalent of yearly travel. Default:
            ``2 x visits_per_year x max_distance_km`` of the establishment.
        fixed_pairs, forbidden_pairs : DataFrame or iterable of pairs, optional
            ``(tutor_id, uai)`` pairs that must be kept (e.g. last year's) or
            never made.
        role_help : mapping, optional
            Role -> kinds of help (``"management"``, ``"accounting"``).
            Default: SGAC both; SG and AG management; FPAC and AC accounting.
        detour_factor : float, default 1.3
            Road km per great-circle km, for the cost reports.
        all_or_nothing : bool, default False
            Each tutor takes no establishment or exactly their capacity
            (needs the CP-SAT backend).
        default_capacity : int, default 2
        default_visits_per_year : float, default 6
        gazetteer : DataFrame or path, optional
            Commune table to resolve ``insee`` codes. Default: the shipped
            French communes.

        Returns
        -------
        Problem

        Raises
        ------
        InputError
            On any bad table, column, value or id; the message names the
            table, the rows (index labels, and ids when known) and the
            column, and says how to fix it. ``rows`` and ``values`` list every
            offending row, the message the first five.
            Also: a number outside its range (the message gives the range),
            two columns for one field whose values differ, a table whose
            points given as lon/lat all lie outside France.
        CRSError
            If a GeoDataFrame whose geometry is needed has no CRS, or none of
            its points falls in France once read in its CRS.

        Warns
        -----
        TutormatchWarning
            If a few points given as lon/lat or geometry lie outside France
            while the others are inside (the message names the rows).

        Notes
        -----
        Empty tables (no rows, or no columns at all) are valid: the problem
        is then empty and solves to an empty plan. Cells are never coerced
        silently: blanks take the documented defaults, anything else must
        parse. Names given as ``tutor_id`` and ``establishment_id`` are also
        accepted in the pair tables; a ``uai`` column in the tutors table is
        read as ``home_uai``.

        Examples
        --------
        >>> import pandas as pd
        >>> import tutormatch as tm
        >>> tutors = pd.DataFrame({"tutor_id": ["T1"], "insee": ["13055"]})
        >>> establishments = pd.DataFrame({"uai": ["0130001F"], "insee": ["13001"]})
        >>> problem = tm.Problem.from_frames(tutors, establishments, max_distance_km=60)
        >>> problem.n_tutors, problem.n_establishments
        (1, 1)
        """
        return cls._from_sources(
            TableSource(tutors, "tutors"),
            TableSource(establishments, "establishments"),
            tutor_id=tutor_id,
            establishment_id=establishment_id,
            max_distance_km=max_distance_km,
            allow_remote=allow_remote,
            remote_penalty_km=remote_penalty_km,
            fixed=_pairs_source(fixed_pairs, "fixed_pairs"),
            forbidden=_pairs_source(forbidden_pairs, "forbidden_pairs"),
            role_help=role_help,
            detour_factor=detour_factor,
            all_or_nothing=all_or_nothing,
            default_capacity=default_capacity,
            default_visits_per_year=default_visits_per_year,
            gazetteer=gazetteer,
        )

    @classmethod
    def from_csv(
        cls,
        tutors: str | PathLike[str],
        establishments: str | PathLike[str],
        *,
        fixed_pairs: str | PathLike[str] | None = None,
        forbidden_pairs: str | PathLike[str] | None = None,
        sheet: str | None = None,
        **options: Any,
    ) -> Problem:
        """Build a problem from CSV files or Excel workbooks, detecting their dialect.

        Accepts UTF-8 (with or without BOM) or Windows-1252, ``,`` or ``;``
        separators and decimal points or commas; what was detected is kept in
        :attr:`sources`. Error messages name the file and its line numbers.
        Files named ``*.xlsx`` are read as workbooks (one sheet each, see
        :func:`tutormatch.io.read_xlsx_table`).

        Parameters
        ----------
        tutors, establishments : path
            The two tables (columns as in :meth:`from_frames`).
        fixed_pairs, forbidden_pairs : path, optional
            CSV files or workbooks with columns ``tutor_id,uai`` (an
            ``assignment.csv`` or ``assignment.xlsx`` written by tutormatch
            works: its uncovered rows, without a tutor, are skipped).
        sheet : str, optional
            The sheet to read in workbooks that have several.
        **options
            Any keyword of :meth:`from_frames`.

        Returns
        -------
        Problem
            With :attr:`sources` mapping each file name to its dialect, e.g.
            ``{"tutors.csv": "Windows-1252, ';'-separated, decimal comma"}``.

        Raises
        ------
        InputError
            As :meth:`from_frames`, naming the file and its line numbers, and
            when a file cannot be read (missing, not text, a repeated column
            name, more values on a line than in the header, a quote never
            closed).
        """
        sources: dict[str, str] = {}

        def read(path: str | PathLike[str]) -> TableSource:
            frame, description = read_table(path, sheet=sheet)
            name = Path(path).name
            sources[name if name not in sources else str(path)] = description
            return TableSource(frame, name, "row" if description.startswith("XLSX") else "line")

        return cls._from_sources(
            read(tutors),
            read(establishments),
            fixed=read(fixed_pairs) if fixed_pairs is not None else None,
            forbidden=read(forbidden_pairs) if forbidden_pairs is not None else None,
            sources=sources,
            **options,
        )

    @classmethod
    def _from_sources(
        cls,
        tutors: TableSource,
        establishments: TableSource,
        *,
        tutor_id: str = "tutor_id",
        establishment_id: str = "uai",
        fixed: TableSource | None = None,
        forbidden: TableSource | None = None,
        role_help: Mapping[str, Iterable[str]] | None = None,
        default_capacity: int = DEFAULT_CAPACITY,
        default_visits_per_year: float = DEFAULT_VISITS_PER_YEAR,
        gazetteer: pd.DataFrame | str | PathLike[str] | None = None,
        sources: Mapping[str, str] | None = None,
        **settings: Any,
    ) -> Problem:
        for source in (tutors, establishments):
            if not isinstance(source.frame, pd.DataFrame):
                raise InputError(
                    f"{source.name}: expected a pandas DataFrame, got {type(source.frame).__name__}.",
                    table=source.name,
                )
        # Parameters first: a bad option should not wait for the tables.
        for name in ("max_distance_km", "remote_penalty_km", "detour_factor"):
            if settings.get(name) is not None:
                check_parameter(name, settings[name], allow_inf=name == "max_distance_km")
        check_parameter("default_capacity", default_capacity)
        check_parameter("default_visits_per_year", default_visits_per_year)
        roles = normalise_role_help(role_help)
        communes = _gazetteer_frame(gazetteer)
        est = EstablishmentTable.from_source(
            establishments,
            id_column=establishment_id,
            gazetteer=communes,
            default_visits_per_year=default_visits_per_year,
        )
        tut = TutorTable.from_source(
            tutors,
            id_column=tutor_id,
            establishments=est,
            gazetteer=communes,
            roles=roles,
            default_capacity=default_capacity,
        )
        ids = {"tutor_id": tutor_id, "establishment_id": establishment_id}
        fixed_rows = _read_pairs(fixed, tut, est, **ids)
        forbidden_rows = _read_pairs(forbidden, tut, est, **ids)
        columns: dict[str, Mapping[str, Any]] = {}
        for key, report in (
            ("tutors", tut.columns),
            ("establishments", est.columns),
            ("fixed_pairs", fixed_rows.columns if fixed_rows is not None else None),
            ("forbidden_pairs", forbidden_rows.columns if forbidden_rows is not None else None),
        ):
            if report:
                columns[key] = report
        base = cls(
            tutors=tut,
            establishments=est,
            role_help=roles,
            sources=dict(sources or {}),
            columns=columns,
            **settings,
        )
        if fixed_rows is None and forbidden_rows is None:
            return base
        # Check against the rules with the user's row labels, then build the
        # final problem (whose own check then passes).
        _check_pair_lists(base, fixed_rows, forbidden_rows)
        empty = np.empty((0, 2), dtype=np.int64)
        return dataclasses.replace(
            base,
            fixed=fixed_rows.pairs if fixed_rows is not None else empty,
            forbidden=forbidden_rows.pairs if forbidden_rows is not None else empty.copy(),
        )

    @classmethod
    def from_arrays(
        cls,
        distance_km: npt.ArrayLike | sp.sparray | sp.spmatrix,
        *,
        capacity: npt.ArrayLike = DEFAULT_CAPACITY,
        min_load: npt.ArrayLike = 0,
        priority: npt.ArrayLike = 1.0,
        visits_per_year: npt.ArrayLike = DEFAULT_VISITS_PER_YEAR,
        tutor_ids: Iterable[str] | None = None,
        establishment_ids: Iterable[str] | None = None,
        max_distance_km: float = DEFAULT_MAX_DISTANCE_KM,
        allow_remote: bool = True,
        remote_penalty_km: float | None = None,
        all_or_nothing: bool = False,
        distance_unit: str = "km",
        vehicle_cv: npt.ArrayLike | None = None,
        cia_eur: npt.ArrayLike | None = None,
    ) -> Problem:
        """Build a problem from a precomputed distance matrix.

        Parameters
        ----------
        distance_km : array_like or scipy sparse, shape (n_tutors, n_establishments)
            Road distance of each pair in km, or travel time in minutes with
            ``distance_unit="min"`` (``max_distance_km`` is then in minutes
            too). Dense: ``nan`` or ``inf`` means no route. Sparse: only
            stored entries are routes.
        capacity, min_load : int or array_like, per tutor
        priority, visits_per_year : float or array_like, per establishment
        tutor_ids, establishment_ids : iterable of str, optional
            Default ``T0000``... and ``E0000``...
        max_distance_km : float, default 60
            On-site limit in the matrix's unit (60 km, or an hour with
            ``distance_unit="min"``); ``math.inf`` for none. The same default
            as :meth:`from_frames`: the call for tutors' rules.
        allow_remote : bool, default True
            Pairs beyond the limit or without a route may be remote, as in
            :meth:`from_frames`. With ``max_distance_km=math.inf``,
            ``remote_penalty_km`` must be given (there is no natural default
            without a finite limit), or pass ``allow_remote=False``.
        remote_penalty_km : float, optional
        all_or_nothing : bool, default False
        distance_unit : {"km", "min"}, default "km"
            ``"km"``: the matrix holds road km, which the cost reports use as
            they are (no detour factor). ``"min"``: travel times; the plan is
            optimal in minutes, and the reports, which need km, refuse it:
            cost it with :func:`tutormatch.evaluate` on a km problem (the
            example below).
        vehicle_cv, cia_eur : float or array_like, per tutor, optional
            Fiscal horsepower and the variable part of the annual bonus, for
            the cost reports (``nan`` where unknown).

        Returns
        -------
        Problem

        Examples
        --------
        The defaults are those of :meth:`from_frames` (on-site within 60 km,
        remote allowed beyond); to keep every pair of the matrix on-site, pass
        ``max_distance_km=math.inf, allow_remote=False``.

        >>> import numpy as np, tutormatch as tm
        >>> distance_km = np.array([[1.0, 5.0], [2.0, 1.0]])
        >>> problem = tm.Problem.from_arrays(distance_km, capacity=1)
        >>> tm.solve(problem).pairs["tutor_id"].tolist()
        ['T0000', 'T0001']

        Optimise travel time, then cost the plan in km and euros:

        >>> minutes = np.array([[10.0, 25.0], [30.0, 12.0]])
        >>> road_km = np.array([[8.0, 20.0], [26.0, 9.0]])
        >>> by_time = tm.solve(tm.Problem.from_arrays(minutes, capacity=1, distance_unit="min"))
        >>> in_km = tm.evaluate(tm.Problem.from_arrays(road_km, capacity=1), by_time.pairs)
        >>> float(tm.report.costs(in_km).totals.loc[0, "yearly_km"])  # 6 visits, there and back
        204.0
        """
        import scipy.sparse as sp  # imported on use: `import tutormatch` stays cheap

        if sp.issparse(distance_km):
            matrix = sp.csr_array(distance_km, dtype=np.float64)
        else:
            dense = np.asarray(distance_km, dtype=np.float64)
            if dense.ndim != 2:
                raise InputError(
                    f"distance_km must be 2-D (tutors x establishments); got shape {dense.shape}."
                )
            rows, cols = np.nonzero(np.isfinite(dense))
            matrix = sp.csr_array((dense[rows, cols], (rows, cols)), shape=dense.shape)
        matrix.sort_indices()
        rng = PARAMETER_RANGES["max_distance_km"]
        bad = ~np.isfinite(matrix.data) | (matrix.data < rng.minimum) | (matrix.data > rng.maximum)
        if bad.any():
            coo = matrix.tocoo()
            where = ", ".join(
                f"{v!r} at ({i}, {j})"
                for v, i, j in zip(coo.data[bad][:5], coo.row[bad][:5], coo.col[bad][:5], strict=True)
            )
            raise InputError(
                f"distance_km: stored distances must be {rng.describe()} (or minutes); found {where}"
                f"{' and more' if bad.sum() > 5 else ''}. Leave a pair without a route empty (nan).",
                column="distance_km",
                values=list(coo.data[bad]),
            )
        n_t, n_e = matrix.shape
        if allow_remote and remote_penalty_km is None and not math.isfinite(max_distance_km):
            raise InputError(
                "from_arrays(allow_remote=True) needs remote_penalty_km (or a finite "
                "max_distance_km from which to derive it); or pass allow_remote=False."
            )
        t_ids = np.array(
            list(tutor_ids) if tutor_ids is not None else [f"T{i:04d}" for i in range(n_t)],
            dtype=object,
        )
        e_ids = np.array(
            list(establishment_ids) if establishment_ids is not None else [f"E{j:04d}" for j in range(n_e)],
            dtype=object,
        )
        for name, ids, n in (
            ("tutor_ids", t_ids, n_t),
            ("establishment_ids", e_ids, n_e),
        ):
            if len(ids) != n or len(set(ids.tolist())) != n:
                raise InputError(
                    f"{name}: expected {n} unique ids, got {len(ids)} ({len(set(ids.tolist()))} unique)."
                )
        tutors = pd.DataFrame(
            {
                "tutor_id": t_ids,
                "capacity": _per_row("capacity", capacity, n_t, "tutor"),
                "min_load": _per_row("min_load", min_load, n_t, "tutor"),
            }
        )
        for name, value in (("vehicle_cv", vehicle_cv), ("cia_eur", cia_eur)):
            if value is not None:
                tutors[name] = _per_row(name, value, n_t, "tutor")
        establishments = pd.DataFrame(
            {
                "uai": e_ids,
                "priority": _per_row("priority", priority, n_e, "establishment"),
                "visits_per_year": _per_row("visits_per_year", visits_per_year, n_e, "establishment"),
            }
        )
        est_reader_source = TableSource(establishments, "establishments")
        communes = pd.DataFrame(columns=["lon", "lat"])
        # Coordinates are unknown (nan): the matrix is the only distance.
        est = EstablishmentTable.from_source(
            est_reader_source,
            id_column="uai",
            gazetteer=communes,
            default_visits_per_year=DEFAULT_VISITS_PER_YEAR,
            check_uai=False,
            locate=False,
        )
        tut = TutorTable.from_source(
            TableSource(tutors, "tutors"),
            id_column="tutor_id",
            establishments=est,
            gazetteer=communes,
            roles=normalise_role_help(None),
            default_capacity=DEFAULT_CAPACITY,
            locate=False,
        )
        t_order = np.argsort(t_ids.astype(str), kind="stable")
        e_order = np.argsort(e_ids.astype(str), kind="stable")
        matrix = sp.csr_array(matrix[t_order][:, e_order])
        matrix.sort_indices()
        return cls(
            tutors=tut,
            establishments=est,
            max_distance_km=max_distance_km,
            allow_remote=allow_remote,
            remote_penalty_km=remote_penalty_km,
            all_or_nothing=all_or_nothing,
            distance_matrix=matrix,
            distance_unit=distance_unit,
        )

    # -- derived values --------------------------------------------------

    @property
    def n_tutors(self) -> int:
        """Number of tutors."""
        return len(self.tutors)

    @property
    def n_establishments(self) -> int:
        """Number of establishments."""
        return len(self.establishments)

    @functools.cached_property
    def candidates(self) -> Candidates:
        """Every eligible on-site pair and the remote classes (see :mod:`~tutormatch.model`)."""
        return build_candidates(self)

    @functools.cached_property
    def remote_classes(self) -> RemoteClasses:
        """Remote-friendly establishments grouped by (wave, need), with their tutors."""
        return build_remote_classes(self)

    @functools.cached_property
    def tutor_xyz(self) -> FloatArray:
        """Tutors as unit vectors (see :func:`tutormatch.geo.unit_vectors`)."""
        from tutormatch.geo._distance import unit_vectors

        xyz = unit_vectors(np.nan_to_num(self.tutors.lon), np.nan_to_num(self.tutors.lat))
        xyz.setflags(write=False)
        return xyz

    @functools.cached_property
    def establishment_xyz(self) -> FloatArray:
        """Establishments as unit vectors."""
        from tutormatch.geo._distance import unit_vectors

        xyz = unit_vectors(np.nan_to_num(self.establishments.lon), np.nan_to_num(self.establishments.lat))
        xyz.setflags(write=False)
        return xyz

    @functools.cached_property
    def tutor_tree(self) -> cKDTree:
        """A KD-tree of the tutors on the unit sphere (built once, on first use)."""
        from scipy.spatial import cKDTree

        return cKDTree(self.tutor_xyz)

    @functools.cached_property
    def remote_cost_km(self) -> FloatArray:
        """Cost of a remote pair for each establishment, in km-equivalent."""
        e = self.establishments
        if self.remote_penalty_km is not None:
            cost = np.full(len(e), float(self.remote_penalty_km))
        else:
            limit = self.max_distance_km
            if not math.isfinite(limit):
                finite = self.tutors.max_km[np.isfinite(self.tutors.max_km)]
                limit = float(finite.max()) if len(finite) else 0.0
            cost = 2.0 * e.visits_per_year * limit
        cost.setflags(write=False)
        return cost

    def pair_cost_km(self, establishment: IntArray, distance_km: FloatArray) -> FloatArray:
        """Yearly on-site travel of pairs: ``2 x visits_per_year x distance``."""
        return np.asarray(
            2.0 * self.establishments.visits_per_year[establishment] * distance_km,
            dtype=np.float64,
        )

    def distance_km(self, tutor: npt.ArrayLike, establishment: npt.ArrayLike) -> FloatArray:
        """Return the distance of arbitrary pairs (great-circle, or the user's matrix).

        Pairs without a known route in a user matrix give ``inf``.
        """
        t = np.asarray(tutor, dtype=np.int64)
        e = np.asarray(establishment, dtype=np.int64)
        if self.distance_matrix is not None:
            m = self.distance_matrix
            # CSR with sorted indices lists stored pairs in (row, column) order.
            rows = np.repeat(np.arange(m.shape[0], dtype=np.int64), np.diff(m.indptr))
            stored = rows * m.shape[1] + m.indices.astype(np.int64)
            wanted = t * m.shape[1] + e
            pos = np.minimum(np.searchsorted(stored, wanted), max(len(stored) - 1, 0))
            found = stored[pos] == wanted if len(stored) else np.zeros(len(t), dtype=bool)
            return np.where(found, m.data[pos] if len(stored) else 0.0, np.inf)
        from tutormatch.geo._distance import chord_to_km

        # Chord of unit vectors -> great-circle km: same as the haversine to
        # about 1e-12, and much cheaper on millions of pairs.
        return chord_to_km(np.linalg.norm(self.tutor_xyz[t] - self.establishment_xyz[e], axis=1))

    def pairs_within(self, radius_km: float) -> tuple[IntArray, IntArray, FloatArray]:
        """Return all pairs within ``radius_km``, in a deterministic order."""
        if self.distance_matrix is not None:
            coo = self.distance_matrix.tocoo()
            keep = coo.data <= radius_km
            t, e, d = (
                coo.row[keep].astype(np.int64),
                coo.col[keep].astype(np.int64),
                coo.data[keep],
            )
            order = np.lexsort((t, e))
            return t[order], e[order], d[order]
        from tutormatch.geo._candidates import pairs_within_km

        tu, es = self.tutors, self.establishments
        if not math.isfinite(radius_km):
            # No limit: every pair is a candidate; dense by the user's choice.
            t, e = np.meshgrid(np.arange(len(tu)), np.arange(len(es)))
            t, e = t.ravel().astype(np.int64), e.ravel().astype(np.int64)
            return t, e, self.distance_km(t, e)
        return pairs_within_km(tu.lon, tu.lat, es.lon, es.lat, radius_km)

    def __repr__(self) -> str:
        remote = "remote allowed" if self.allow_remote else "no remote"
        return (
            f"<Problem: {self.n_tutors} tutors, "
            f"{self.n_establishments} establishments, "
            f"on-site within {self.max_distance_km:g} km, {remote}>"
        )

    # -- variants (implemented in tutormatch.scenarios._edit) ---------------

    def replace(self, **changes: Any) -> Problem:
        """Return a copy with some settings changed, validated again.

        Examples
        --------
        >>> import tutormatch as tm
        >>> tm.example_problem().replace(max_distance_km=40, allow_remote=False)
        <Problem: 260 tutors, 500 establishments, on-site within 40 km, no remote>
        """
        valid = [f.name for f in dataclasses.fields(self)]
        unknown = [k for k in changes if k not in valid]
        if unknown:
            raise InputError(f"Problem.replace: unknown setting {unknown[0]!r}; valid: {', '.join(valid)}.")
        return dataclasses.replace(self, **changes)

    def without_tutors(self, tutor_ids: Iterable[Any]) -> Problem:
        """Return the problem without these tutors (see :func:`tutormatch.scenarios.without_tutors`)."""
        from tutormatch.scenarios._edit import without_tutors

        return without_tutors(self, tutor_ids)

    def with_tutors(self, tutors: pd.DataFrame) -> Problem:
        """Return the problem with more tutors (see :func:`tutormatch.scenarios.with_tutors`)."""
        from tutormatch.scenarios._edit import with_tutors

        return with_tutors(self, tutors)

    def with_capacity(self, capacity: int | Mapping[str, int]) -> Problem:
        """Return the problem with other capacities (see :func:`tutormatch.scenarios.with_capacity`)."""
        from tutormatch.scenarios._edit import with_capacity

        return with_capacity(self, capacity)

    def with_later_waves(self, waves: Mapping[str, float]) -> Problem:
        """Return the problem with later waves (see :func:`~tutormatch.scenarios.with_later_waves`)."""
        from tutormatch.scenarios._edit import with_later_waves

        return with_later_waves(self, waves)


def _check_pair_lists(problem: Problem, fixed: _PairRows | None, forbidden: _PairRows | None) -> None:
    """Check fixed pairs against forbidden ones, capacities and the eligibility rules.

    Raises
    ------
    InputError
        Naming the pairs (and their rows when known) of the first problem found.
    """
    if fixed is None or not len(fixed.pairs):
        return
    if forbidden is not None and len(forbidden.pairs):
        _check_fixed_not_forbidden(problem, fixed, forbidden)
    _check_one_tutor_each(problem, fixed)
    _check_fixed_loads(problem, fixed)
    _check_fixed_rules(problem, fixed)


def _pair_ids(problem: Problem, pairs: _PairRows, i: int) -> tuple[str, str]:
    t, e = pairs.pairs[i]
    return str(problem.tutors.id[t]), str(problem.establishments.id[e])


def _rows_or_ids(problem: Problem, pairs: _PairRows, selected: npt.NDArray[np.int64]) -> list[Any]:
    if pairs.rows is not None:
        return [pairs.rows[i] for i in selected]
    return [_pair_ids(problem, pairs, int(i)) for i in selected]


def _check_fixed_not_forbidden(problem: Problem, fixed: _PairRows, forbidden: _PairRows) -> None:
    n_e = problem.n_establishments
    fixed_keys = pair_keys(fixed.pairs[:, 0], fixed.pairs[:, 1], n_e)
    forbidden_keys = pair_keys(forbidden.pairs[:, 0], forbidden.pairs[:, 1], n_e)
    both = np.flatnonzero(np.isin(fixed_keys, forbidden_keys))
    if not len(both):
        return
    position = {int(k): j for j, k in enumerate(forbidden_keys)}
    items = []
    for i in both:
        tid, uai = _pair_ids(problem, fixed, int(i))
        j = position[int(fixed_keys[i])]
        other = (
            ""
            if forbidden.rows is None
            else f" ({forbidden.row_word} {forbidden.rows[j]} of {forbidden.table})"
        )
        items.append(f"({tid}, {uai}){fixed.where(int(i))}{other}")
    raise InputError(
        f"{fixed.table}: {_plural(len(both), 'pair')} also in {forbidden.table}: "
        f"{_listed(items)}. Remove each pair from one of the two lists.",
        table=fixed.table,
        rows=_rows_or_ids(problem, fixed, both),
        values=[_pair_ids(problem, fixed, int(i)) for i in both],
    )


def _check_one_tutor_each(problem: Problem, fixed: _PairRows) -> None:
    values, counts = np.unique(fixed.pairs[:, 1], return_counts=True)
    shared = values[counts > 1]
    if not len(shared):
        return
    items = []
    for e in shared:
        members = np.flatnonzero(fixed.pairs[:, 1] == e)
        tutors = " and ".join(f"{_pair_ids(problem, fixed, int(i))[0]}{fixed.where(int(i))}" for i in members)
        items.append(f"{problem.establishments.id[e]} to {tutors}")
    involved = np.flatnonzero(np.isin(fixed.pairs[:, 1], shared))
    raise InputError(
        f"{fixed.table}: {_plural(len(shared), 'establishment')} fixed to several "
        f"tutors, but an establishment has one tutor: {_listed(items)}. Keep one "
        "pair per establishment.",
        table=fixed.table,
        column="uai",
        rows=_rows_or_ids(problem, fixed, involved),
        values=[str(problem.establishments.id[e]) for e in shared],
    )


def _check_fixed_loads(problem: Problem, fixed: _PairRows) -> None:
    load = np.bincount(fixed.pairs[:, 0], minlength=problem.n_tutors)
    over = np.flatnonzero(load > problem.tutors.capacity)
    if not len(over):
        return
    items = []
    for t in over:
        members = np.flatnonzero(fixed.pairs[:, 0] == t)
        where = f" ({fixed.row_word}s {', '.join(str(fixed.rows[i]) for i in members)})" if fixed.rows else ""
        items.append(
            f"{problem.tutors.id[t]} has {load[t]}{where} for a capacity of {problem.tutors.capacity[t]}"
        )
    involved = np.flatnonzero(np.isin(fixed.pairs[:, 0], over))
    raise InputError(
        f"{fixed.table}: {_plural(len(over), 'tutor')} with more fixed "
        f"establishments than their capacity: {_listed(items)}. Raise these "
        "capacities in the tutors table or drop fixed pairs.",
        table=fixed.table,
        column="tutor_id",
        rows=_rows_or_ids(problem, fixed, involved),
        values=[str(problem.tutors.id[t]) for t in over],
    )


def _check_fixed_rules(problem: Problem, fixed: _PairRows) -> None:
    t, e = fixed.pairs[:, 0], fixed.pairs[:, 1]
    distance = problem.distance_km(t, e)
    bad = np.flatnonzero(classify_pairs(problem, t, e, distance) < 0)
    if not len(bad):
        return
    items = []
    for i in bad[:_SHOWN]:
        reason = rejection_reason(problem, int(t[i]), int(e[i]), float(distance[i])) or "not eligible"
        tid, uai = _pair_ids(problem, fixed, int(i))
        items.append(f"({tid}, {uai}){fixed.where(int(i))}: {reason}")
    more = f" and {len(bad) - _SHOWN} more" if len(bad) > _SHOWN else ""
    verb = "breaks" if len(bad) == 1 else "break"
    raise InputError(
        f"{fixed.table}: {_plural(len(bad), 'fixed pair')} {verb} an eligibility rule: "
        f"{'; '.join(items)}{more}. Drop these pairs, or change what excludes them "
        "(waves, role or need, max_distance_km, max_km, remote_ok).",
        table=fixed.table,
        rows=_rows_or_ids(problem, fixed, bad),
        values=[_pair_ids(problem, fixed, int(i)) for i in bad],
    )
