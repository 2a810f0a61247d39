"""Reports: what a plan costs, how far tutors travel, who is covered.

As DataFrames first (:func:`costs`, :func:`distances`, :func:`coverage`),
then rendered: Markdown and self-contained HTML, CSV and XLSX, GeoJSON and
GeoPackage, a static and an interactive map (both offline, on the shipped
département outlines), a histogram
(:func:`write_reports` writes them all; :func:`write_rollout_report` the
report of a rollout planned by :func:`tutormatch.plan_waves`). Labels in French or English; the
cost model's parameters are in :class:`ReportOptions`.
"""

from tutormatch.report._costs import CostReport, costs
from tutormatch.report._coverage import CoverageReport, coverage
from tutormatch.report._distances import DistanceReport, distances
from tutormatch.report._document import html_report, markdown_report
from tutormatch.report._geo import departement_outlines, pair_lines
from tutormatch.report._options import ReportOptions
from tutormatch.report._plots import distance_histogram, static_map
from tutormatch.report._rollout import write_rollout_report
from tutormatch.report._scale import MileageScale, VehicleClass, mileage_scale
from tutormatch.report._webmap import WebMap, interactive_map
from tutormatch.report._write import write_reports

__all__ = [
    "CostReport",
    "CoverageReport",
    "DistanceReport",
    "MileageScale",
    "ReportOptions",
    "VehicleClass",
    "WebMap",
    "costs",
    "coverage",
    "departement_outlines",
    "distance_histogram",
    "distances",
    "html_report",
    "interactive_map",
    "markdown_report",
    "mileage_scale",
    "pair_lines",
    "static_map",
    "write_reports",
    "write_rollout_report",
]


def __dir__() -> list[str]:
    return list(__all__)
