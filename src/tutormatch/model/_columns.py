"""Read typed columns out of a user's table, naming every bad row.

The user's table may come from a CSV file (all cells are text, rows are
labelled by line number) or from a DataFrame (any dtypes, rows labelled by the
index). :class:`ColumnReader` turns one column at a time into a NumPy array,
and on bad values raises an :class:`~tutormatch.errors.InputError` that names
the table, the column, every offending row with its id, what was expected and
how to fix it. Nothing is coerced silently.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from tutormatch.errors import InputError
from tutormatch.model._fields import Field, header_key

__all__ = ["ColumnReader"]

_TRUE = frozenset({"true", "1", "yes", "y", "oui", "o", "vrai", "t", "x"})
_FALSE = frozenset({"false", "0", "no", "n", "non", "faux", "f", ""})
_SHOWN = 5  # offending rows listed in a message; the error object keeps all


def _is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _as_text(value: Any) -> str:
    """Return a cell as stripped text in Unicode NFC (so equal ids compare equal)."""
    if _is_blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return unicodedata.normalize("NFC", str(value).strip())


def _as_float(value: Any) -> float | None:
    """Parse a number written with a decimal point or a decimal comma."""
    if _is_blank(value):
        return np.nan
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        try:
            return float(value)
        except OverflowError:  # a Python int beyond any float: out of every range
            return math.inf if value > 0 else -math.inf
    text = str(value).strip().replace("\u00a0", "").replace(" ", "")
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return None


def _as_texts(raw: list[Any]) -> list[str]:
    """:func:`_as_text` of every cell; plain strings (a CSV file's cells) without its type tests."""
    if all(type(v) is str for v in raw):
        return [unicodedata.normalize("NFC", t) if (t := v.strip()) else "" for v in raw]
    return [_as_text(v) for v in raw]


def _str_as_float(value: str) -> float | None:
    # float() reads what _as_float reads when it succeeds (it strips the same
    # whitespace); the rest (blanks, decimal commas, spaces) goes the long way.
    try:
        return float(value)
    except ValueError:
        return _as_float(value)


def _as_floats(raw: list[Any]) -> list[float | None]:
    """:func:`_as_float` of every cell; plain strings (a CSV file's cells) by ``float`` first."""
    if all(type(v) is str for v in raw):
        return [_str_as_float(v) for v in raw]
    return [_as_float(v) for v in raw]


class ColumnReader:
    """Typed access to the columns of one input table.

    Column names are matched through :func:`~tutormatch.model._fields.header_key`
    (case, accents, spaces and punctuation ignored) against the names and
    aliases of ``fields``. Every column of the frame is then either read (it
    matches a field) or ignored (it matches none); both are recorded in
    :meth:`report`. Two columns that match one field must hold equal values
    on every row, else the reader raises.

    Parameters
    ----------
    frame : pandas.DataFrame
        The user's table; it is not modified.
    table : str
        How messages name the table (``"tutors"`` or a file name).
    id_column : str
        Canonical name of the id column, used to name rows in messages.
    row_word : str
        ``"line"`` for CSV files (the index holds line numbers) or ``"row"``.
    fields : mapping, optional
        Canonical name -> :class:`~tutormatch.model._fields.Field`.
    names : mapping, optional
        Canonical name -> names the caller gave explicitly (e.g. the
        ``tutor_id=`` argument). A column matched by one of these wins over
        columns matched only by the default aliases, which are then ignored.
    geometry : str, optional
        The active geometry column of a GeoDataFrame: read, never matched.
    aliases : mapping, optional
        Canonical name -> other accepted spellings, for callers without a
        field table (adds to ``fields``).
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        *,
        table: str,
        id_column: str,
        row_word: str = "row",
        fields: Mapping[str, Field] | None = None,
        names: Mapping[str, Iterable[str]] | None = None,
        geometry: str | None = None,
        aliases: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        self.frame = frame
        self.table = table
        self.row_word = row_word
        self.id_column = id_column
        self._ids: npt.NDArray[np.object_] | None = None
        self.fields = dict(fields or {})
        for canonical, spellings in (aliases or {}).items():
            self.fields.setdefault(canonical, Field(canonical, tuple(spellings)))
        keys: dict[str, str] = {}
        for f in self.fields.values():
            for key in f.keys:
                keys.setdefault(key, f.name)
        chosen: dict[str, str] = {}
        for canonical, spellings in (names or {}).items():
            for spelling in spellings:
                chosen[header_key(spelling)] = canonical
        self._names = {k: [f.name, *f.aliases] for k, f in self.fields.items()}
        for canonical, spellings in (names or {}).items():
            self._names.setdefault(canonical, [canonical])[1:1] = [s for s in spellings if s != canonical]
        seen: set[str] = set()
        groups: dict[str, list[int]] = {}
        explicit: dict[str, list[int]] = {}
        self.ignored: list[str] = []
        for position, column in enumerate(frame.columns):
            label = str(column)
            if label in seen:
                raise _duplicate_column(table, label)
            seen.add(label)
            if geometry is not None and label == geometry:
                continue
            key = header_key(label)
            if key in chosen:
                explicit.setdefault(chosen[key], []).append(position)
            if key in keys or key in chosen:
                groups.setdefault(chosen.get(key, keys.get(key, "")), []).append(position)
            else:
                self.ignored.append(label)
        for canonical, positions in explicit.items():
            self.ignored.extend(str(frame.columns[p]) for p in groups[canonical] if p not in positions)
            groups[canonical] = positions
        order = {str(c): i for i, c in enumerate(frame.columns)}
        self.ignored.sort(key=order.__getitem__)
        self._position: dict[str, int] = {}
        self.same_as: dict[str, str] = {}
        for canonical, positions in groups.items():
            first, *others = positions
            for other in others:
                self._check_equal(canonical, first, other)
                self.same_as[str(frame.columns[other])] = canonical
            self._position[canonical] = first
        self.read: dict[str, str] = {
            name: str(frame.columns[p]) for name, p in sorted(self._position.items(), key=lambda kv: kv[1])
        }
        if geometry is not None and geometry in seen:
            self.read["geometry"] = geometry

    def _check_equal(self, canonical: str, first: int, other: int) -> None:
        a = self.frame.iloc[:, first].tolist()
        b = self.frame.iloc[:, other].tolist()
        differ = np.array([not _same_cell(x, y) for x, y in zip(a, b, strict=True)], dtype=bool)
        if not differ.any():
            return
        name_a, name_b = str(self.frame.columns[first]), str(self.frame.columns[other])
        shown = [f"{_show(x)} vs {_show(y)}" for x, y, d in zip(a, b, differ, strict=True) if d]
        raise InputError(
            f"{self.table}: columns {name_a!r} and {name_b!r} both give {canonical!r} but differ in "
            f"{self.where(differ, shown)}. Keep one of them: drop or rename the other"
            f"{_choose(canonical, name_b)}.",
            table=self.table,
            column=name_b,
            rows=self.row_labels(differ),
            values=[(x, y) for x, y, d in zip(a, b, differ, strict=True) if d],
        )

    def report(self) -> dict[str, Any]:
        """Say which columns were read (and as what) and which were ignored.

        Returns
        -------
        dict
            ``{"source": table, "read": {canonical: user's spelling},
            "ignored": [user's spellings], "same_as": {user's spelling:
            canonical}}``; ``same_as`` lists second columns for a field, found
            equal to the first on every row.
        """
        return {
            "source": self.table,
            "read": dict(self.read),
            "ignored": list(self.ignored),
            "same_as": dict(self.same_as),
        }

    # -- helpers ---------------------------------------------------------

    def __len__(self) -> int:
        return len(self.frame)

    def has(self, name: str) -> bool:
        """Tell whether the table has column ``name`` (or one of its aliases)."""
        return name in self._position

    def spelled(self, name: str) -> str:
        """Return the column name as the user spelled it."""
        return self.read.get(name, name)

    def _raw(self, name: str) -> list[Any]:
        return self.frame.iloc[:, self._position[name]].tolist()

    def set_ids(self, ids: npt.NDArray[np.object_]) -> None:
        """Record the row ids, so that later messages name rows by id too."""
        self._ids = ids

    def row_labels(self, mask: npt.NDArray[np.bool_]) -> list[Any]:
        """Return the row labels (line numbers or index labels) under ``mask``."""
        return [_plain(label) for label in self.frame.index[mask]]

    def fail(
        self,
        name: str,
        mask: npt.NDArray[np.bool_],
        expectation: str,
        fix: str = "Correct or drop these rows.",
        values: Iterable[Any] | None = None,
        *,
        shown: Iterable[str] | None = None,
        error: type[InputError] = InputError,
    ) -> InputError:
        """Build the error for the rows under ``mask`` of column ``name``.

        Parameters
        ----------
        name : str
            Canonical column name; messages use the user's spelling.
        mask : ndarray of bool
            The offending rows.
        expectation : str
            What the column must hold, completing "column 'x' ...".
        fix : str, optional
            The last sentence: how to correct the rows.
        values : iterable, optional
            The offending values, aligned with the rows of ``mask``. Default:
            the cells of column ``name``.
        shown : iterable of str, optional
            How to show each value in the message (default: its repr).
        error : type, default InputError
            The class of the error (e.g. :class:`~tutormatch.errors.CRSError`).

        Returns
        -------
        InputError
            Naming every offending row in ``rows`` and value in ``values``;
            the message lists the first five.
        """
        rows = self.row_labels(mask)
        positions = np.flatnonzero(mask)
        if values is not None:
            found = list(values)
        elif self.has(name):
            raw = self._raw(name)
            found = [raw[i] for i in positions]
        else:
            found = [None] * len(rows)
        texts = list(shown) if shown is not None else [_show(v) for v in found]
        column = self.spelled(name)
        message = (
            f"{self.table}: column {column!r} {expectation}; found in {self.where(mask, texts, name)}. {fix}"
        )
        return error(message, table=self.table, column=column, rows=rows, values=found)

    def fail_rows(self, mask: npt.NDArray[np.bool_], problem: str, fix: str) -> InputError:
        """Build the error for rows at fault as a whole (no single column to blame).

        The message reads ``"<table>: <problem> on 2 rows: row 3 (uai X),
        row 7 (uai Y). <fix>"``.
        """
        rows = self.row_labels(mask)
        values = list(self._ids[mask]) if self._ids is not None else []
        return InputError(
            f"{self.table}: {problem} on {self.where(mask)}. {fix}",
            table=self.table,
            rows=rows,
            values=values,
        )

    def where(
        self,
        mask: npt.NDArray[np.bool_],
        shown: list[str] | None = None,
        name: str = "",
    ) -> str:
        """Describe the rows under ``mask`` for a message, the first five in full.

        Parameters
        ----------
        mask : ndarray of bool
            The rows to describe.
        shown : list of str, optional
            One text per row under ``mask`` (its value), put before the row.
        name : str, optional
            The column at fault; rows are not named by id when it is the id
            column (the value already is the id).

        Returns
        -------
        str
            E.g. ``"2 rows: -1 on line 3 (tutor_id T1), 'x' on line 5 (tutor_id T4)"``.
        """
        rows = self.row_labels(mask)
        ids = self._ids[mask] if self._ids is not None else [None] * len(rows)
        items = []
        for k, (row, rid) in enumerate(zip(rows[:_SHOWN], ids[:_SHOWN], strict=True)):
            value = f"{shown[k]} on " if shown is not None else ""
            items.append(f"{value}{self.row_word} {row}{self._who(rid, name)}")
        more = f" and {len(rows) - _SHOWN} more" if len(rows) > _SHOWN else ""
        count = f"{len(rows)} row{'s' if len(rows) != 1 else ''}"
        return f"{count}: {', '.join(items)}{more}"

    def _who(self, rid: Any, name: str) -> str:
        if rid in (None, "") or name == self.id_column:
            return ""
        return f" ({self.id_column} {rid})"

    def require(self, *names: str) -> None:
        """Raise if any of ``names`` is missing from the table."""
        missing = [n for n in names if not self.has(n)]
        if missing:
            name = missing[0]
            present = ", ".join(repr(str(c)) for c in self.frame.columns) or "none"
            others = [a for a in self._names.get(name, [name]) if a != name]
            also = f" (or one of {', '.join(map(repr, others))})" if others else ""
            raise InputError(
                f"{self.table}: required column {name!r}{also} is missing; columns "
                f"found: {present}. Add it, or rename the matching column; names "
                "are matched ignoring case, accents, spaces and punctuation.",
                table=self.table,
                column=name,
            )

    # -- typed columns ---------------------------------------------------

    def text(self, name: str, default: str = "") -> npt.NDArray[np.object_]:
        """Return column ``name`` as stripped strings (``default`` if absent)."""
        if not self.has(name):
            return np.full(len(self), default, dtype=object)
        values = [v or default for v in _as_texts(self._raw(name))]
        return np.array(values, dtype=object) if values else np.empty(0, dtype=object)

    def number(
        self,
        name: str,
        *,
        default: float = np.nan,
        minimum: float | None = None,
        maximum: float | None = None,
        strict_minimum: bool = False,
        expectation: str | None = None,
    ) -> npt.NDArray[np.float64]:
        """Return column ``name`` as floats; blanks become ``default``."""
        if not self.has(name):
            return np.full(len(self), default, dtype=np.float64)
        parsed = _as_floats(self._raw(name))
        bad = np.array([p is None for p in parsed], dtype=bool)
        values = np.array([np.nan if p is None else p for p in parsed], dtype=np.float64)
        blank = np.isnan(values) & ~bad
        # Infinite values typed by the user are refused; a blank cell takes
        # the default, which may be inf (no limit).
        bad |= np.isinf(values)
        values[blank] = default
        finite = np.isfinite(values)
        if minimum is not None:
            bad |= finite & ((values <= minimum) if strict_minimum else (values < minimum))
        if maximum is not None:
            bad |= finite & (values > maximum)
        if bad.any():
            if expectation is None:
                bounds = []
                if minimum is not None:
                    bounds.append(f"{'>' if strict_minimum else '>='} {minimum:g}")
                if maximum is not None:
                    bounds.append(f"<= {maximum:g}")
                expectation = "must be a number" + (" " + " and ".join(bounds) if bounds else "")
            raise self.fail(name, bad, expectation)
        return values

    def ranged(self, name: str, *, default: float = np.nan) -> npt.NDArray[np.float64]:
        """Return column ``name`` as floats checked against its field's range.

        Blanks become ``default`` (which may be ``nan``: unknown, or ``inf``:
        no limit); every value typed must lie in the range of
        ``fields[name]``, and be whole when the range says so.
        """
        rng = self.fields[name].range
        if rng is None:
            raise TypeError(f"field {name!r} has no range")  # a programming error, not input
        expectation = f"must be {rng.describe()}"
        values = self.number(
            name, default=default, minimum=rng.minimum, maximum=rng.maximum, expectation=expectation
        )
        if rng.integer:
            fractional = np.isfinite(values) & (values != np.round(values))
            if fractional.any():
                raise self.fail(name, fractional, expectation)
        return values

    def boolean(self, name: str, *, default: bool) -> npt.NDArray[np.bool_]:
        """Return column ``name`` as booleans (true/false, oui/non, 1/0...)."""
        if not self.has(name):
            return np.full(len(self), default, dtype=bool)
        out = np.empty(len(self), dtype=bool)
        bad = np.zeros(len(self), dtype=bool)
        for i, value in enumerate(self._raw(name)):
            if isinstance(value, bool | np.bool_):
                out[i] = bool(value)
                continue
            text = _as_text(value).lower()
            if text == "":
                out[i] = default
            elif text in _TRUE:
                out[i] = True
            elif text in _FALSE:
                out[i] = False
            else:
                bad[i] = True
        if bad.any():
            raise self.fail(name, bad, "must be true or false (also accepted: oui/non, 1/0, yes/no)")
        return out

    def choice(self, name: str, choices: Mapping[str, str], *, what: str) -> npt.NDArray[np.object_]:
        """Return column ``name`` mapped through ``choices`` (keys lower-case).

        Blank cells give ``""`` (unknown).
        """
        raw = self.text(name)
        out = np.empty(len(raw), dtype=object)
        bad = np.zeros(len(raw), dtype=bool)
        for i, value in enumerate(raw):
            if value == "":
                out[i] = ""
            elif value.lower() in choices:
                out[i] = choices[value.lower()]
            else:
                bad[i] = True
        if bad.any():
            valid = sorted(set(choices.values()))
            raise self.fail(
                name,
                bad,
                f"must be one of {', '.join(valid)} ({what}), or empty when unknown",
            )
        return out


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


_LONGEST = 40  # characters of a value shown in a message; the error keeps it whole


def _show(value: Any) -> str:
    if _is_blank(value):
        return "empty"
    # A number in a CSV cell is shown bare: quotes would only confuse.
    text = value.strip() if isinstance(value, str) and _as_float(value) is not None else repr(_plain(value))
    return text if len(text) <= _LONGEST else f"{text[: _LONGEST - 3]}... ({len(text):,} characters)"


def _duplicate_column(table: str, name: str) -> InputError:
    return InputError(
        f"{table}: column {name!r} appears twice. Rename or drop one of them.",
        table=table,
        column=name,
    )


def _choose(canonical: str, column: str) -> str:
    """Name the argument that picks an id column, for the ids only."""
    argument = {"tutor_id": "tutor_id", "uai": "establishment_id"}.get(canonical)
    return f" (or choose one, e.g. {argument}={column!r})" if argument else ""


def _same_cell(a: Any, b: Any) -> bool:
    """Tell whether two cells give the same value (same text, or same number)."""
    text_a, text_b = _as_text(a), _as_text(b)
    if text_a.casefold() == text_b.casefold():
        return True
    number_a, number_b = _as_float(a), _as_float(b)
    return number_a is not None and number_b is not None and bool(number_a == number_b)
