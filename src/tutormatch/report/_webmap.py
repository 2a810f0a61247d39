"""The interactive map: one self-contained HTML page (Leaflet inlined), that works offline.

The page holds everything it needs: Leaflet's script and style sheet (shipped
with tutormatch, BSD-2-Clause, its licence inlined in a comment), the plan's
layers as GeoJSON, and a background of département outlines (shipped, IGN /
INSEE public data). Nothing is fetched when it is written or opened, unless
the user names a tile server (``ReportOptions(map_tiles=...)``).
"""

from __future__ import annotations

import base64
import functools
import html
import json
import re
from dataclasses import dataclass
from importlib import resources
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tutormatch.report._format import format_number
from tutormatch.report._geo import _pseudonyms, _require_coordinates, background_outlines, plan_bounds
from tutormatch.report._labels import label, value_label
from tutormatch.report._options import ReportOptions
from tutormatch.report._pairs import pair_frame
from tutormatch.report._plots import COLOURS
from tutormatch.report._pseudonyms import Pseudonyms

if TYPE_CHECKING:
    from tutormatch.solve._assignment import Assignment

__all__ = ["WebMap", "interactive_map"]

_LEAFLET = ("data", "leaflet")
#: Colours of the background when no tile server is named: sea, land.
_SEA, _LAND = "#e8eff5", "#fbfaf6"

_SCRIPT = """
(function () {
  var data = JSON.parse(document.getElementById("tutormatch-data").textContent);
  var map = L.map("map", {preferCanvas: true});
  map.attributionControl.setPrefix(false);
  if (data.tiles) {
    L.tileLayer(data.tiles.url, {attribution: data.tiles.attribution, maxZoom: 19}).addTo(map);
  }
  function tip(layer, text) {
    // Text, never HTML: names come from the user's files.
    layer.bindTooltip(function () { var s = document.createElement("span"); s.textContent = text; return s; },
                      {sticky: true});
  }
  var overlays = {};
  data.layers.forEach(function (spec) {
    var layer = L.geoJSON(spec.features, {
      style: function () { return spec.style; },
      pointToLayer: function (feature, latlng) { return L.circleMarker(latlng, spec.style); },
      onEachFeature: function (feature, layer) {
        if (feature.properties.tip) { tip(layer, feature.properties.tip); }
      },
      interactive: spec.interactive
    }).addTo(map);
    var swatch = document.createElement("span");
    swatch.style.color = spec.swatch;
    swatch.textContent = "\\u25A0 ";
    var name = document.createElement("span");
    name.appendChild(swatch);
    name.appendChild(document.createTextNode(spec.name));
    overlays[name.outerHTML] = layer;
  });
  L.control.layers(null, overlays, {collapsed: false}).addTo(map);
  L.control.scale({imperial: false}).addTo(map);
  map.fitBounds([[data.bounds[1], data.bounds[0]], [data.bounds[3], data.bounds[2]]], {padding: [20, 20]});
})();
"""


@dataclass(frozen=True, slots=True)
class WebMap:
    """An interactive map as one self-contained HTML page.

    Attributes
    ----------
    html : str
        The page: Leaflet, the layers and the background inlined.
    """

    html: str

    def save(self, path: str | PathLike[str]) -> Path:
        """Write the page to ``path`` (UTF-8); return the path."""
        target = Path(path)
        target.write_text(self.html, encoding="utf-8")
        return target

    def _repr_html_(self) -> str:
        # In a notebook the page goes in an iframe, as a page of its own.
        return (
            f'<iframe srcdoc="{html.escape(self.html, quote=True)}" '
            'style="width:100%;height:520px;border:1px solid #ddd"></iframe>'
        )

    def __repr__(self) -> str:
        return f"<WebMap: {len(self.html):,} characters, self-contained>"


@functools.cache
def _leaflet() -> tuple[str, str, str]:
    """Return Leaflet's script, its style sheet (images inlined, comments dropped) and licence."""
    folder = resources.files("tutormatch").joinpath(*_LEAFLET)
    script = folder.joinpath("leaflet.js").read_text(encoding="utf-8")
    css = folder.joinpath("leaflet.css").read_text(encoding="utf-8")
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    for name in ("layers.png", "layers-2x.png"):
        data = base64.b64encode(folder.joinpath(name).read_bytes()).decode("ascii")
        css = css.replace(f"url(images/{name})", f"url(data:image/png;base64,{data})")
    # The only other image is the default marker's, which these maps do not use.
    css = css.replace("url(images/marker-icon.png)", "none")
    licence = folder.joinpath("LICENSE").read_text(encoding="utf-8")
    return script, css, licence


def _json_for_script(value: Any) -> str:
    """Return JSON that cannot end the ``<script>`` element holding it."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


def interactive_map(
    plan: Assignment,
    *,
    options: ReportOptions | None = None,
    outlines: Any = None,
    pseudonyms: Pseudonyms | None = None,
) -> WebMap:
    """Build an interactive map of the plan, as one self-contained page that works offline.

    Layers (switchable): département outlines, on-site pairs, remote pairs,
    establishments by status and tutors, with tooltips. Leaflet's script and
    style sheet and every layer are inside the page: it opens without
    network. No tile is fetched unless ``options.map_tiles`` names a tile
    server.

    Parameters
    ----------
    plan : Assignment
    options : ReportOptions, optional
        ``lang`` for labels; ``map_tiles`` and ``map_attribution`` for a
        tile background; with ``pseudonymise=True`` tooltips show pseudonyms
        instead of tutor ids and names.
    outlines : geopandas.GeoDataFrame or GeoSeries, optional
        Your own polygons to outline, in any CRS, drawn instead of the
        shipped département outlines (an empty GeoDataFrame for none).
    pseudonyms : Pseudonyms, optional
        Internal: the pseudonyms of a whole report.

    Returns
    -------
    WebMap
        Save it with ``m.save("map.html")``; a notebook shows it.

    Raises
    ------
    InputError
        If the problem has no coordinates (built from a distance matrix).

    Examples
    --------
    >>> import tutormatch as tm
    >>> m = tm.report.interactive_map(tm.solve(tm.example_problem()))
    >>> "https://" in m.html.split("<body>")[1]
    False
    """
    options = options or ReportOptions.for_plan(plan)
    lang = options.lang
    _require_coordinates(plan)
    pseudonyms = _pseudonyms(plan, options, pseudonyms)
    p = plan.problem
    tut, est = p.tutors, p.establishments

    def who(t: int) -> str:
        if pseudonyms is not None:
            return pseudonyms(str(tut.id[t]))
        return f"{tut.id[t]} {tut.name[t]}".strip()

    layers: list[dict[str, Any]] = []
    layers.append(_outline_layer(plan, outlines, options))
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
            line = [_lonlat(tut.lon[t], tut.lat[t]), _lonlat(est.lon[e], est.lat[e])]
            features.append(_feature("LineString", line, tip))
        style = {
            "color": COLOURS[mode],
            "weight": 2 if mode == "onsite" else 1.5,
            "opacity": 0.8,
            "dashArray": None if mode == "onsite" else "6 4",
        }
        layers.append(_layer(features, label(f"pair_{mode}", lang), style, COLOURS[mode]))
    status = np.full(len(est), "uncovered", dtype=object)
    status[plan.establishment] = np.where(plan.onsite, "onsite", "remote")
    # Hovering an uncovered establishment says why it is uncovered.
    colon = " : " if lang == "fr" else ": "
    uncovered = plan.uncovered_establishment.tolist()
    why = {e: colon + text for e, text in zip(uncovered, plan.uncovered_details(lang), strict=True)}
    for name in ("onsite", "remote", "uncovered"):
        members: list[int] = np.flatnonzero(status == name).tolist()
        tips = [f"{est.id[e]} {est.name[e]}".strip() + why.get(e, "") for e in members]
        features = [
            _feature("Point", _lonlat(est.lon[e], est.lat[e]), tip)
            for e, tip in zip(members, tips, strict=True)
        ]
        style = {
            "color": "white",
            "weight": 1,
            "fillColor": COLOURS[name],
            "fillOpacity": 0.95,
            "radius": 6 if name == "uncovered" else 4,
        }
        layers.append(_layer(features, label(f"establishment_{name}", lang), style, COLOURS[name]))
    loads = plan.loads
    features = [
        _feature("Point", _lonlat(tut.lon[t], tut.lat[t]), f"{who(t)} ({loads[t]})")
        for t in np.flatnonzero(loads > 0).tolist()
    ]
    style = {"color": "white", "weight": 1, "fillColor": COLOURS["tutor"], "fillOpacity": 0.9, "radius": 3}
    layers.append(_layer(features, label("tutor", lang), style, COLOURS["tutor"]))
    data = {
        "layers": [layer for layer in layers if layer["features"]["features"]],
        "bounds": plan_bounds(plan),
        "tiles": None
        if options.map_tiles is None
        else {"url": options.map_tiles, "attribution": html.escape(options.map_attribution or "")},
    }
    return WebMap(_page(data, options))


def _page(data: dict[str, Any], options: ReportOptions) -> str:
    script, css, licence = _leaflet()
    lang = options.lang
    title = html.escape(options.title or label("map_title", lang))
    sea = "#ddd" if options.map_tiles else _SEA
    return "\n".join(
        [
            "<!DOCTYPE html>",
            f'<html lang="{lang}"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{title}</title>",
            f"<style>{css}\nhtml, body, #map {{ height: 100%; margin: 0; }}",
            f"#map {{ background: {sea}; }}</style>",
            "<script>/*! Leaflet 1.9.4, inlined: offline, nothing fetched.\n"
            + licence.replace("*/", "* /")
            + "*/\n"
            + script
            + "</script>",
            '</head><body><div id="map"></div>',
            f'<script type="application/json" id="tutormatch-data">{_json_for_script(data)}</script>',
            f"<script>{_SCRIPT}</script>",
            "</body></html>",
        ]
    )


def _outline_layer(plan: Assignment, outlines: Any, options: ReportOptions) -> dict[str, Any]:
    import shapely

    shapes, shipped = background_outlines(plan, outlines)
    tiles = options.map_tiles is not None
    features = []
    codes = shapes["departement_code"].tolist() if shipped else [None] * len(shapes)
    names = shapes["name"].tolist() if shipped else [None] * len(shapes)
    for geometry, code, name in zip(shapes.geometry, codes, names, strict=True):
        if geometry is None or geometry.is_empty:
            continue
        tip = f"{code} {name}" if shipped else ""
        features.append(
            {
                "type": "Feature",
                "geometry": json.loads(shapely.to_geojson(geometry)),
                "properties": {"tip": tip},
            }
        )
    style = {
        "color": COLOURS["outline"],
        "weight": 1,
        "fill": not tiles,
        "fillColor": _LAND,
        "fillOpacity": 1,
    }
    layer = _layer(features, label("outlines", options.lang), style, COLOURS["outline"])
    layer["interactive"] = shipped
    return layer


def _lonlat(lon: float, lat: float) -> list[float]:
    # 1e-5 degree is about a metre: enough for a map, and a smaller page.
    return [round(float(lon), 5), round(float(lat), 5)]


def _feature(kind: str, coordinates: Any, tip: str) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": kind, "coordinates": coordinates},
        "properties": {"tip": tip},
    }


def _layer(features: list[dict[str, Any]], name: str, style: dict[str, Any], swatch: str) -> dict[str, Any]:
    return {
        "name": name,
        "features": {"type": "FeatureCollection", "features": features},
        "style": style,
        "swatch": swatch,
        "interactive": True,
    }
