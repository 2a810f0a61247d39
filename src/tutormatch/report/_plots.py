"""Static pictures with matplotlib alone: the map of the plan and the histogram of distances.

Figures are built with :class:`matplotlib.figure.Figure` directly, never
through ``pyplot``: nothing changes the user's backend or global state, and
no tile or other file is fetched.
"""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from tutormatch.report._format import format_general
from tutormatch.report._geo import _require_coordinates, background_outlines
from tutormatch.report._labels import label
from tutormatch.report._options import ReportOptions
from tutormatch.report._pairs import pair_frame

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from tutormatch.solve._assignment import Assignment

__all__ = ["COLOURS", "axis_formatter", "distance_histogram", "figure_png", "static_map"]

#: Colours of the map's layers (colour-blind safe, Okabe-Ito).
COLOURS = {
    "onsite": "#0072B2",
    "remote": "#E69F00",
    "uncovered": "#D55E00",
    "tutor": "#000000",
    "tutor_idle": "#999999",
    "outline": "#777777",
}
_KM_PER_DEGREE = 111.32
#: Background colours: sea (outside the outlines) and land.
_SEA, _LAND = "#e8eff5", "#fbfaf6"


def _figure(size: tuple[float, float]) -> Figure:
    try:
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "maps and plots need matplotlib, a dependency of tutormatch: pip install tutormatch"
        ) from None
    return Figure(figsize=size, layout="constrained")


def figure_png(figure: Figure, *, dpi: int = 110) -> bytes:
    """Return a figure as PNG bytes (Agg renderer)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _outline_polygons(outlines: Any) -> list[np.ndarray]:
    """Return the exterior rings of the polygons (holes are départements of their own)."""
    import shapely

    parts = shapely.get_parts(np.asarray(outlines.values))
    parts = parts[shapely.get_type_id(parts) == shapely.GeometryType.POLYGON]
    return [np.asarray(shapely.get_coordinates(shapely.get_exterior_ring(g))) for g in parts]


def axis_formatter(lang: str) -> Any:
    """Return a tick formatter with the ``lang`` number format (decimal comma in French)."""
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _: format_general(round(float(value), 6), lang))


def static_map(
    plan: Assignment,
    *,
    options: ReportOptions | None = None,
    outlines: Any = None,
) -> Figure:
    """Draw the plan on a map: establishments, tutors, one line per pair coloured by mode.

    Drawn with matplotlib alone, in lon/lat with the aspect of the mean
    latitude, on the shipped département outlines (no tiles, nothing
    downloaded); axes in the number format of ``options.lang``.

    Parameters
    ----------
    plan : Assignment
    options : ReportOptions, optional
        ``lang`` for the legend and title.
    outlines : geopandas.GeoDataFrame or GeoSeries, optional
        Your own polygons to outline, in any CRS, drawn instead of the
        département outlines shipped with tutormatch (the default
        background; an empty GeoDataFrame for none).

    Returns
    -------
    matplotlib.figure.Figure
        Save it with ``figure.savefig("map.png")``.

    Raises
    ------
    InputError
        If the problem has no coordinates (built from a distance matrix).
    CRSError
        If ``outlines`` have no CRS.

    Examples
    --------
    >>> import tutormatch as tm
    >>> figure = tm.report.static_map(tm.solve(tm.example_problem()))
    >>> len(figure.axes)
    1
    """
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.lines import Line2D

    options = options or ReportOptions.for_plan(plan)
    lang = options.lang
    _require_coordinates(plan)
    p = plan.problem
    tut, est = p.tutors, p.establishments
    figure = _figure((8.0, 8.0))
    ax = figure.add_subplot()
    lat0 = float(np.nanmean(np.concatenate([tut.lat, est.lat]))) if len(est) else 45.0
    ax.set_aspect(1.0 / math.cos(math.radians(lat0)))
    handles: list[Any] = []
    shapes, _ = background_outlines(plan, outlines)
    if len(shapes):
        ax.add_collection(
            PolyCollection(
                _outline_polygons(shapes.geometry),
                facecolors=_LAND,
                edgecolors=COLOURS["outline"],
                linewidths=0.6,
                zorder=1,
            ),
            autolim=False,
        )
        handles.append(Line2D([], [], color=COLOURS["outline"], lw=0.8, label=label("outlines", lang)))
    pairs = pair_frame(plan, options)
    t = pairs["tutor_row"].to_numpy()
    e = pairs["establishment_row"].to_numpy()
    styles: tuple[tuple[str, Any, float, float], ...] = (
        ("remote", (0, (4, 3)), 0.6, 0.55),
        ("onsite", "solid", 0.9, 0.9),
    )
    for mode, style, width, alpha in styles:
        mask = (pairs["mode"] == mode).to_numpy()
        if not mask.any():
            continue
        pair_segments = np.stack(
            [
                np.column_stack([tut.lon[t[mask]], tut.lat[t[mask]]]),
                np.column_stack([est.lon[e[mask]], est.lat[e[mask]]]),
            ],
            axis=1,
        )
        ax.add_collection(
            LineCollection(
                list(pair_segments),
                colors=COLOURS[mode],
                linewidths=width,
                linestyles=style,
                alpha=alpha,
                zorder=2,
            )
        )
        handles.append(
            Line2D([], [], color=COLOURS[mode], lw=1.2, linestyle=style, label=label(f"pair_{mode}", lang))
        )
    status = np.full(len(est), "uncovered", dtype=object)
    status[plan.establishment] = np.where(plan.onsite, "onsite", "remote")
    for name, marker, size in (("onsite", "o", 9), ("remote", "o", 12), ("uncovered", "X", 40)):
        mask = status == name
        if not mask.any():
            continue
        ax.scatter(
            est.lon[mask], est.lat[mask], s=size, c=COLOURS[name], marker=marker, linewidths=0.3,
            edgecolors="white", zorder=3, label=label(f"establishment_{name}", lang),
        )  # fmt: skip
    used = plan.loads > 0
    ax.scatter(
        tut.lon[used],
        tut.lat[used],
        s=14,
        c=COLOURS["tutor"],
        marker="^",
        zorder=4,
        label=label("tutor", lang),
    )
    if (~used).any():
        ax.scatter(tut.lon[~used], tut.lat[~used], s=10, c=COLOURS["tutor_idle"], marker="^", zorder=4)
    ax.autoscale_view()
    _pad(ax)
    _scale_bar(ax, lat0, lang)
    ax.set_xlabel("longitude (°)")
    ax.set_ylabel("latitude (°)")
    ax.xaxis.set_major_formatter(axis_formatter(lang))
    ax.yaxis.set_major_formatter(axis_formatter(lang))
    ax.set_facecolor(_SEA)
    ax.tick_params(labelsize=7)
    handles += ax.get_legend_handles_labels()[0]
    ax.legend(handles=handles, loc="upper left", fontsize=7, framealpha=0.9)
    n_est = len(est)
    covered = f"{plan.n_covered} / {n_est} " + (
        "établissements couverts" if lang == "fr" else "establishments covered"
    )
    ax.set_title(f"{options.title or label('map_title', lang)} – {covered}", fontsize=10)
    return figure


def _pad(ax: Any, share: float = 0.04) -> None:
    """Widen the view a little around the points (the outlines do not count in the limits)."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    dx, dy = (x1 - x0) * share or 0.05, (y1 - y0) * share or 0.05
    ax.set_xlim(x0 - dx, x1 + dx)
    ax.set_ylim(y0 - dy, y1 + dy)


def _scale_bar(ax: Any, lat0: float, lang: str) -> None:
    """Draw a 20 km bar in the lower right corner."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    km = 20.0
    width = km / (_KM_PER_DEGREE * math.cos(math.radians(lat0)))
    x = x1 - (x1 - x0) * 0.05 - width
    y = y0 + (y1 - y0) * 0.04
    ax.plot([x, x + width], [y, y], color="black", lw=2, zorder=5)
    ax.text(x + width / 2, y + (y1 - y0) * 0.01, "20 km", ha="center", va="bottom", fontsize=7, zorder=5)


def distance_histogram(plan: Assignment, *, options: ReportOptions | None = None) -> Figure:
    """Plot the histogram of the road km of on-site pairs, with the report's thresholds.

    Parameters
    ----------
    plan : Assignment
    options : ReportOptions, optional
        ``detour_factor``, ``distance_thresholds_km`` and ``lang``.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import tutormatch as tm
    >>> figure = tm.report.distance_histogram(tm.solve(tm.example_problem()))
    >>> figure.axes[0].get_xlabel()
    'Distance routière (km)'
    """
    options = options or ReportOptions.for_plan(plan)
    lang = options.lang
    pairs = pair_frame(plan, options)
    road = pairs.loc[pairs["mode"] == "onsite", "road_km"].to_numpy(dtype=np.float64)
    road = road[np.isfinite(road)]
    figure = _figure((7.0, 3.6))
    ax = figure.add_subplot()
    top = max(float(road.max()) if len(road) else 0.0, max(options.distance_thresholds_km))
    bins = [5.0 * k for k in range(math.ceil(top / 5.0) + 2)]
    ax.hist(road, bins=bins, color=COLOURS["onsite"], edgecolor="white")
    for threshold in options.distance_thresholds_km:
        ax.axvline(threshold, color="#555555", lw=0.8, linestyle=(0, (3, 2)))
    ax.set_xlabel(label("road_km", lang))
    ax.set_ylabel(label("count", lang))
    ax.xaxis.set_major_formatter(axis_formatter(lang))
    ax.yaxis.set_major_formatter(axis_formatter(lang))
    ax.set_title(label("histogram", lang), fontsize=10)
    return figure
