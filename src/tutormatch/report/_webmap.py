"""The interactive map (folium): pairs, establishments and tutors as switchable layers."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import numpy as np

from tutormatch.report._format import format_number
from tutormatch.report._geo import _pseudonyms, _require_coordinates, outlines_lonlat
from tutormatch.report._labels import label, value_label
from tutormatch.report._options import ReportOptions
from tutormatch.report._pairs import pair_frame
from tutormatch.report._plots import COLOURS
from tutormatch.report._pseudonyms import Pseudonyms

if TYPE_CHECKING:
    import folium

    from tutormatch.solve._assignment import Assignment

__all__ = ["OSM_ATTRIBUTION", "OSM_TILES", "interactive_map"]

#: The OpenStreetMap tile URL written into the page: the reader's browser
#: fetches tiles when the page is opened; writing it fetches nothing.
OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'


def interactive_map(
    plan: Assignment,
    *,
    options: ReportOptions | None = None,
    outlines: Any = None,
    tiles: bool = True,
    pseudonyms: Pseudonyms | None = None,
) -> folium.Map:
    """Build an interactive map of the plan (folium / Leaflet).

    Layers (switchable): département outlines when given, on-site pairs,
    remote pairs, establishments by status and tutors, with tooltips.
    Building and saving the map fetches nothing: the page refers to the
    Leaflet scripts and, with ``tiles=True``, to OpenStreetMap tiles, which
    the reader's browser loads when the page is opened.

    Parameters
    ----------
    plan : Assignment
    options : ReportOptions, optional
        ``lang`` for labels; with ``pseudonymise=True`` tooltips show
        pseudonyms instead of tutor ids and names.
    outlines : geopandas.GeoDataFrame or GeoSeries, optional
        Polygons to outline (e.g. départements), in any CRS; none by default.
    tiles : bool, default True
        Refer to the OpenStreetMap tiles as a background; ``False`` for a
        blank background (offline use).
    pseudonyms : Pseudonyms, optional
        Internal: the pseudonyms of a whole report.

    Returns
    -------
    folium.Map
        Save it with ``m.save("map.html")``.

    Raises
    ------
    InputError
        If the problem has no coordinates (built from a distance matrix).

    Examples
    --------
    >>> import tutormatch as tm
    >>> m = tm.report.interactive_map(tm.solve(tm.example_problem()), tiles=False)
    >>> type(m).__name__
    'Map'
    """
    try:
        import folium
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("the interactive map needs folium: pip install tutormatch") from None

    options = options or ReportOptions()
    lang = options.lang
    _require_coordinates(plan)
    pseudonyms = _pseudonyms(plan, options, pseudonyms)
    p = plan.problem
    tut, est = p.tutors, p.establishments
    lat = np.concatenate([tut.lat, est.lat])
    lon = np.concatenate([tut.lon, est.lon])
    fmap = folium.Map(location=[float(np.mean(lat)), float(np.mean(lon))], zoom_start=8, tiles=None)
    if tiles:
        folium.TileLayer(tiles=OSM_TILES, attr=OSM_ATTRIBUTION, name="OpenStreetMap", max_zoom=19).add_to(
            fmap
        )
    shapes = outlines_lonlat(outlines)
    if shapes is not None:
        folium.GeoJson(
            shapes.to_json(),
            name=label("outlines", lang),
            style_function=lambda _: {"color": COLOURS["outline"], "weight": 1.5, "fill": False},
        ).add_to(fmap)

    def who(t: int) -> str:
        if pseudonyms is not None:
            return pseudonyms(str(tut.id[t]))
        return f"{tut.id[t]} {tut.name[t]}".strip()

    # One GeoJSON layer per kind of object, not one folium object per feature:
    # the page is smaller and renders in a fraction of the time.
    pairs = pair_frame(plan, options)
    for mode in ("onsite", "remote"):
        rows = pairs[pairs["mode"] == mode]
        features = []
        for t, e, road, uai, name in zip(
            rows["tutor_row"].tolist(),
            rows["establishment_row"].tolist(),
            rows["road_km"].tolist(),
            rows["uai"].tolist(),
            rows["establishment_name"].tolist(),
            strict=True,
        ):
            km = "" if np.isnan(road) else f", {format_number(road, 1, lang)} km"
            where = f"{uai} {name}".strip()
            tip = f"{who(t)} → {where} ({value_label('mode', mode, lang)}{km})"
            line = [[float(tut.lon[t]), float(tut.lat[t])], [float(est.lon[e]), float(est.lat[e])]]
            features.append(_feature("LineString", line, html.escape(tip)))
        style = {
            "color": COLOURS[mode],
            "weight": 2 if mode == "onsite" else 1.5,
            "opacity": 0.8,
            "dashArray": None if mode == "onsite" else "6 4",
        }
        _layer(folium, fmap, features, label(f"pair_{mode}", lang), style=style)
    status = np.full(len(est), "uncovered", dtype=object)
    status[plan.establishment] = np.where(plan.onsite, "onsite", "remote")
    # Hovering an uncovered establishment says why it is uncovered.
    colon = " : " if lang == "fr" else ": "
    uncovered = plan.uncovered_establishment.tolist()
    why = {e: colon + text for e, text in zip(uncovered, plan.uncovered_details(lang), strict=True)}
    for name in ("onsite", "remote", "uncovered"):
        features = [
            _feature(
                "Point",
                [float(est.lon[e]), float(est.lat[e])],
                html.escape(f"{est.id[e]} {est.name[e]}".strip() + why.get(e, "")),
            )
            for e in np.flatnonzero(status == name).tolist()
        ]
        style = {"color": "white", "weight": 1, "fillColor": COLOURS[name], "fillOpacity": 0.95}
        radius = 6 if name == "uncovered" else 4
        _layer(folium, fmap, features, label(f"establishment_{name}", lang), style=style, radius=radius)
    loads = plan.loads
    features = [
        _feature("Point", [float(tut.lon[t]), float(tut.lat[t])], html.escape(f"{who(t)} ({loads[t]})"))
        for t in np.flatnonzero(loads > 0).tolist()
    ]
    style = {"color": "white", "weight": 1, "fillColor": COLOURS["tutor"], "fillOpacity": 0.9}
    _layer(folium, fmap, features, label("tutor", lang), style=style, radius=3)
    folium.LayerControl(collapsed=False).add_to(fmap)
    fmap.fit_bounds([[float(np.min(lat)), float(np.min(lon))], [float(np.max(lat)), float(np.max(lon))]])
    return fmap


def _feature(kind: str, coordinates: Any, tip: str) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": kind, "coordinates": coordinates},
        "properties": {"tip": tip},
    }


def _layer(
    folium: Any,
    fmap: Any,
    features: list[dict[str, Any]],
    name: str,
    *,
    style: dict[str, Any],
    radius: float = 0,
) -> None:
    if not features:
        return
    marker = folium.CircleMarker(radius=radius, fill=True) if radius else None
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=name,
        style_function=lambda _, style=style: style,
        marker=marker,
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
    ).add_to(fmap)
