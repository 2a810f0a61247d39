"""Make the département outlines shipped with tutormatch from the shared IGN/INSEE file.

    python tools/make_outlines.py ../shared/data/departements_fr.geojson

writes ``src/tutormatch/data/departements_fr.geojson.gz``: the 101
départements, simplified together (shared borders stay shared, no gaps or
overlaps between neighbours) with a tolerance of about 500 m, coordinates
rounded to 0.001° (about 100 m), made valid, as compact GeoJSON, gzipped
without a timestamp (same input, same bytes). docs/data.md says how and why.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import geopandas as gpd
import shapely

TOLERANCE_DEGREES = 0.005
DECIMALS = 3
TARGET = Path(__file__).resolve().parents[1] / "src" / "tutormatch" / "data" / "departements_fr.geojson.gz"


def main(source: str) -> None:
    """Write the shipped outlines from ``source``."""
    frame = gpd.read_file(source).sort_values("departement_code").reset_index(drop=True)
    geometry = shapely.coverage_simplify(frame.geometry.to_numpy(), TOLERANCE_DEGREES)
    geometry = shapely.make_valid(shapely.set_precision(geometry, 10.0**-DECIMALS))
    features = []
    for code, name, shape in zip(frame["departement_code"], frame["name"], geometry, strict=True):
        polygons = [g for g in shapely.get_parts(shape) if g.geom_type in ("Polygon", "MultiPolygon")]
        shape = shapely.multipolygons(polygons) if len(polygons) > 1 else polygons[0]
        features.append(
            {
                "type": "Feature",
                "properties": {"departement_code": code, "name": name},
                "geometry": json.loads(shapely.to_geojson(shape)),
            }
        )
    text = json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":"))
    TARGET.write_bytes(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))
    print(f"wrote {TARGET} ({TARGET.stat().st_size:,} bytes, {len(text):,} uncompressed)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/departements_fr.geojson")
