"""The :class:`ReportOptions`: the cost model's parameters and how reports are rendered."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tutormatch.errors import InputError
from tutormatch.model._costs import CostModel
from tutormatch.model._fields import check_parameter
from tutormatch.model._money import to_decimal
from tutormatch.model._scale import MileageScale, mileage_scale

if TYPE_CHECKING:
    from tutormatch.solve._assignment import Assignment

__all__ = ["LANGS", "ReportOptions"]

#: Languages of the reports' labels.
LANGS = ("en", "fr")


@dataclass(frozen=True, slots=True)
class ReportOptions:
    """Parameters of the cost model and of the rendered reports.

    Amounts are exact: give them as ``int``, ``str`` or
    :class:`~decimal.Decimal` (a ``float`` is read through its shortest
    repr, so ``0.1`` means 0.1). They are stored as ``Decimal``.

    Parameters
    ----------
    indemnity_eur : Decimal, default 500
        Paid per tutored establishment per school year, on-site or remote.
    bonus_multiplier : Decimal, default 3
        The bonus of a tutor is ``bonus_multiplier x cia_eur`` (the variable
        part of their annual bonus, column ``cia_eur`` of the tutors table).
        Where ``cia_eur`` is missing the bonus is *not included*, and reports
        say for how many tutors, rather than counting 0.
    remote_pair_cost_eur : Decimal, default 0
        Fixed yearly cost of each remote pair (equipment, connection...).
    fixed_cost_eur : Decimal, default 0
        Yearly cost of recruiting a candidate tutor (status ``candidate``)
        whose own ``fixed_cost_eur`` is empty; retained tutors pay none.
    budget_eur : Decimal, optional
        When given, the cost totals show the headroom ``budget - total``.
    detour_factor : float, optional
        Road km per great-circle km. Default: the problem's
        (:attr:`Problem.detour_factor <tutormatch.Problem.detour_factor>`,
        1.3). Ignored when the problem has a distance matrix, whose values
        are taken as road km.
    default_vehicle_class : str, default "5cv"
        Class of the scale for tutors without ``vehicle_cv``; reports count
        and flag those tutors as *assumed*. One of ``scale.keys``.
    km_decimals : int, default 0
        Each tutor's yearly km is rounded (half up) to this many decimals
        before the scale is applied: 0 is whole km, as on a travel claim.
    scale : MileageScale, optional
        Default: the shipped State scale, :func:`mileage_scale`.
    lang : {"fr", "en"}, default "fr"
        Language of labels and number format in rendered reports and files.
        The DataFrames of :func:`costs`, :func:`distances` and
        :func:`coverage` always have English column names.
    pseudonymise : bool, default False
        Replace tutor ids and names by pseudonyms (``TUT-`` and ten hex
        digits) in rendered reports and files; :func:`write_reports` then
        writes the key table ``pseudonyms_PRIVATE.csv`` elsewhere.
    pseudonym_key : bytes or str, optional
        Secret key of the pseudonyms (HMAC-SHA256 of the tutor id): the same
        key gives the same pseudonyms run after run. Default: a new random
        key for each call, so the pseudonyms cannot be recomputed by anyone
        without the key table.
    distance_thresholds_km : tuple of float, default (20, 40, 60)
        The distances report counts the on-site pairs within each.
    n_longest : int, default 10
        How many of the longest on-site pairs the distances report lists.
    title : str, optional
        Title of the Markdown and HTML reports.
    report_date : datetime.date, optional
        Date the reports state in their parameters. Default: today.
    map_tiles : str, optional
        URL template of a tile server for the interactive map's background
        (``"https://tile.openstreetmap.org/{z}/{x}/{y}.png"``): the reader's
        browser then fetches tiles from it. Default: none, the map works
        offline on the shipped département outlines.
    map_attribution : str, optional
        Attribution of the tile server, shown on the map (required by most
        servers, e.g. ``"© OpenStreetMap contributors"``).

    Notes
    -----
    Ranges: ``indemnity_eur`` and ``remote_pair_cost_eur`` from 0 to
    1,000,000; ``budget_eur`` from 0 to 1e12; ``bonus_multiplier`` from 0 to
    1,000; ``detour_factor`` from 1 to 10. Values outside raise an
    :class:`~tutormatch.InputError` naming the parameter and the range.

    Examples
    --------
    >>> from tutormatch.report import ReportOptions
    >>> options = ReportOptions(indemnity_eur=450, budget_eur="150000", lang="en")
    >>> options.indemnity_eur, options.budget_eur
    (Decimal('450'), Decimal('150000'))
    """

    indemnity_eur: Decimal | int | float | str = Decimal(500)
    bonus_multiplier: Decimal | int | float | str = Decimal(3)
    remote_pair_cost_eur: Decimal | int | float | str = Decimal(0)
    fixed_cost_eur: Decimal | int | float | str = Decimal(0)
    budget_eur: Decimal | int | float | str | None = None
    detour_factor: float | None = None
    default_vehicle_class: str = "5cv"
    km_decimals: int = 0
    scale: MileageScale = field(default_factory=mileage_scale, repr=False)
    lang: str = "fr"
    pseudonymise: bool = False
    pseudonym_key: bytes | str | None = field(default=None, repr=False)
    distance_thresholds_km: tuple[float, ...] = (20.0, 40.0, 60.0)
    n_longest: int = 10
    title: str | None = None
    report_date: date | None = None
    map_tiles: str | None = None
    map_attribution: str | None = None

    def __post_init__(self) -> None:
        zero = Decimal(0)
        set_ = object.__setattr__
        set_(self, "indemnity_eur", to_decimal(self.indemnity_eur, "indemnity_eur", minimum=zero))
        set_(self, "bonus_multiplier", to_decimal(self.bonus_multiplier, "bonus_multiplier", minimum=zero))
        set_(
            self,
            "remote_pair_cost_eur",
            to_decimal(self.remote_pair_cost_eur, "remote_pair_cost_eur", minimum=zero),
        )
        set_(self, "fixed_cost_eur", to_decimal(self.fixed_cost_eur, "fixed_cost_eur", minimum=zero))
        if self.budget_eur is not None:
            set_(self, "budget_eur", to_decimal(self.budget_eur, "budget_eur", minimum=zero))
        # Ranges the reports can carry exactly (see docs/inputs.md).
        for name in (
            "indemnity_eur",
            "bonus_multiplier",
            "remote_pair_cost_eur",
            "fixed_cost_eur",
            "budget_eur",
        ):
            if getattr(self, name) is not None:
                check_parameter(name, getattr(self, name))
        if self.detour_factor is not None:
            check_parameter("detour_factor", self.detour_factor)
        self.scale.vehicle_class(self.default_vehicle_class)  # raises with the valid keys
        if not isinstance(self.km_decimals, int) or not 0 <= self.km_decimals <= 3:
            raise InputError(f"km_decimals must be an integer from 0 to 3; got {self.km_decimals!r}.")
        if self.lang not in LANGS:
            raise InputError(f"lang must be one of {', '.join(map(repr, LANGS))}; got {self.lang!r}.")
        thresholds = tuple(float(t) for t in self.distance_thresholds_km)
        if any(not (t > 0) for t in thresholds):
            raise InputError(f"distance_thresholds_km must be > 0; got {self.distance_thresholds_km!r}.")
        set_(self, "distance_thresholds_km", tuple(sorted(thresholds)))
        if not isinstance(self.n_longest, int) or self.n_longest < 0:
            raise InputError(f"n_longest must be an integer >= 0; got {self.n_longest!r}.")
        if self.map_tiles is not None and not all(k in self.map_tiles for k in ("{z}", "{x}", "{y}")):
            raise InputError(
                f"map_tiles must be a tile URL template with {{z}}, {{x}} and {{y}}; got {self.map_tiles!r}."
            )

    # Typed views of the amounts, for the code that computes with them.
    @property
    def indemnity(self) -> Decimal:
        """:attr:`indemnity_eur` as a Decimal."""
        return Decimal(self.indemnity_eur)

    @property
    def multiplier(self) -> Decimal:
        """:attr:`bonus_multiplier` as a Decimal."""
        return Decimal(self.bonus_multiplier)

    @property
    def remote_cost(self) -> Decimal:
        """:attr:`remote_pair_cost_eur` as a Decimal."""
        return Decimal(self.remote_pair_cost_eur)

    @property
    def cost_model(self) -> CostModel:
        """The cost model these options describe (the one :func:`tutormatch.solve` can minimise)."""
        return CostModel(
            indemnity_eur=self.indemnity,
            bonus_multiplier=self.multiplier,
            remote_pair_cost_eur=self.remote_cost,
            fixed_cost_eur=Decimal(self.fixed_cost_eur),
            default_vehicle_class=self.default_vehicle_class,
            km_decimals=self.km_decimals,
            detour_factor=self.detour_factor,
            scale=self.scale,
        )

    @classmethod
    def for_plan(cls, plan: Assignment, **overrides: Any) -> ReportOptions:
        """Return the options that price ``plan`` as it was solved: its cost model and budget.

        Every report function uses these when given no ``options``, so that
        the euros a report prints are the euros the optimiser minimised.

        Parameters
        ----------
        plan : Assignment
        **overrides
            Any other field of :class:`ReportOptions` (``lang``, ``title``...).

        Examples
        --------
        >>> import tutormatch as tm
        >>> plan = tm.solve(tm.example_problem(), cost_model=tm.CostModel(indemnity_eur=450))
        >>> tm.report.ReportOptions.for_plan(plan, lang="en").indemnity_eur
        Decimal('450')
        """
        model = plan.cost_model
        settings: dict[str, Any] = {}
        if model is not None:
            settings.update(
                indemnity_eur=model.indemnity_eur,
                bonus_multiplier=model.bonus_multiplier,
                remote_pair_cost_eur=model.remote_pair_cost_eur,
                fixed_cost_eur=model.fixed_cost_eur,
                default_vehicle_class=model.default_vehicle_class,
                km_decimals=model.km_decimals,
                detour_factor=model.detour_factor,
                scale=model.scale,
            )
        if plan.budget_eur is not None:
            settings["budget_eur"] = plan.budget_eur
        settings.update(overrides)
        return cls(**settings)

    @property
    def budget(self) -> Decimal | None:
        """:attr:`budget_eur` as a Decimal, or ``None``."""
        return None if self.budget_eur is None else Decimal(self.budget_eur)
