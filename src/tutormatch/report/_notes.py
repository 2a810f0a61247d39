"""The sentences that go with the figures: what is included, assumed, and how it is computed."""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np

from tutormatch.report._format import format_eur, format_general, format_number
from tutormatch.report._kinds import exact_decimals

if TYPE_CHECKING:
    from tutormatch.report._render import ReportTables

__all__ = ["method_notes", "notes"]


def _date(value: date, lang: str) -> str:
    return value.strftime("%d/%m/%Y") if lang == "fr" else value.isoformat()


def notes(report: ReportTables) -> list[str]:
    """Return what a reader must know to read the totals: missing bonus, assumed classes, budget."""
    options = report.options
    lang = options.lang
    fr = lang == "fr"
    totals = report.costs.totals.iloc[0]
    out: list[str] = []
    n_missing = int(totals["n_bonus_missing"])
    n_tutors = int(totals["n_tutors"])
    m = format_general(float(options.multiplier), lang)
    if n_missing:
        out.append(
            f"Part variable (CIA × {m}) non incluse pour {n_missing} tuteur(s) sur {n_tutors} : "
            "montant de CIA non renseigné. Le total est donc un minimum."
            if fr
            else f"Bonus (CIA × {m}) not included for {n_missing} of {n_tutors} tutors: their CIA "
            "amount is not given. The total is therefore a lower bound."
        )
    elif n_tutors:
        out.append(
            f"Part variable (CIA × {m}) incluse pour tous les tuteurs."
            if fr
            else f"Bonus (CIA × {m}) included for every tutor."
        )
    n_assumed = int(totals["n_vehicle_class_assumed"])
    if n_assumed:
        cls = options.scale.vehicle_class(options.default_vehicle_class).label(lang)
        out.append(
            f"Catégorie de véhicule « {cls} » supposée pour {n_assumed} tuteur(s) dont la puissance "
            "fiscale n'est pas renseignée."
            if fr
            else f"Vehicle class '{cls}' assumed for {n_assumed} tutors whose fiscal power is not given."
        )
    budget = options.budget
    if budget is not None:
        headroom = float(totals["headroom_eur"])
        over = headroom < 0
        if fr:
            text = f"Budget : {format_eur(budget, lang)} ; marge restante : {format_eur(headroom, lang)}"
            text += " (dépassement)." if over else "."
            if n_missing:
                text += " La marge réelle est plus faible : la part variable de certains tuteurs"
                text += " n'est pas comptée."
        else:
            text = f"Budget: {format_eur(budget, lang)}; headroom: {format_eur(headroom, lang)}"
            text += " (over budget)." if over else "."
            if n_missing:
                text += " The true headroom is smaller: some tutors' bonus is not counted."
        out.append(text)
    n_uncovered = report.plan.n_uncovered
    if n_uncovered and report.plan.status.has_solution and "levers" not in report.tables:
        out.append(
            f"{n_uncovered} établissement(s) non couvert(s) : les leviers qui les couvriraient ne sont "
            "pas calculés dans ce rapport (tutormatch solve --shortfall, ou "
            "shortfall=plan.shortfall(euros=True))."
            if fr
            else f"{n_uncovered} establishment(s) uncovered: the levers that would cover them are not "
            "computed in this report (tutormatch solve --shortfall, or shortfall=plan.shortfall(euros=True))."
        )
    if options.pseudonymise:
        out.append(
            "Les tuteurs sont désignés par des pseudonymes ; la table de correspondance est conservée à part."
            if fr
            else "Tutors are shown by pseudonyms; the key table is kept separately."
        )
    return out


def method_notes(report: ReportTables) -> list[str]:
    """Return how every figure is computed, so that a reader can redo it by hand."""
    options = report.options
    lang = options.lang
    fr = lang == "fr"
    scale = options.scale
    problem = report.plan.problem
    detour = options.detour_factor if options.detour_factor is not None else problem.detour_factor
    km_precision = (
        ("au kilomètre près" if fr else "to the whole km")
        if options.km_decimals == 0
        else (f"à {options.km_decimals} décimale(s)" if fr else f"to {options.km_decimals} decimal(s)")
    )
    tranches = ", ".join(scale.tranche_names(lang))
    out: list[str] = []
    if fr:
        out.append(
            f"Indemnité : {format_eur(options.indemnity, lang)} par établissement tutoré et par année "
            "scolaire, sur place ou à distance."
        )
        if problem.distance_matrix is None:
            out.append(
                "Distance routière d'un binôme = distance à vol d'oiseau × "
                f"{format_general(float(detour), lang)} (facteur de détour)."
            )
        else:
            out.append("Distances routières : celles de la matrice de distances fournie.")
        out.append(
            "Km par an d'un tuteur = somme, sur ses binômes sur place, de 2 × visites par an × "
            f"distance routière, arrondie {km_precision} (arrondi au plus proche, demi vers le haut)."
        )
        out.append(
            "Les km par an retenus (par tuteur et au total) sont ces km arrondis, tuteur par tuteur ; "
            "les répartitions par département, par vague et par binôme montrent les km non arrondis : "
            f"{_km_pair(report)}."
        )
        out.append(
            f"Frais kilométriques : barème appliqué par tranches de ces km annuels ({tranches}), "
            "à la suite des km de service déjà parcourus dans l'année s'ils sont renseignés, au taux "
            "de la catégorie du véhicule ; somme arrondie au centime."
        )
        out.append(f"Barème : {scale.reference}, en vigueur depuis le {_date(scale.in_force_from, lang)}.")
        remote = options.remote_cost
        out.append(
            "Binômes à distance : pas de frais kilométriques"
            + (f" ; coût fixe de {format_eur(remote, lang)} par binôme." if remote > 0 else ".")
        )
        out.append(
            f"Part variable : CIA × {format_general(float(options.multiplier), lang)}, arrondie au "
            "centime ; non incluse quand la CIA n'est pas renseignée."
        )
        out.append(
            "Répartitions par département et par vague : les frais kilométriques d'un tuteur sont "
            "répartis entre ses binômes sur place au prorata de leurs km, sa part variable à parts "
            "égales entre ses établissements, au centime près ; les sous-totaux ont donc exactement "
            "le total pour somme."
        )
    else:
        out.append(
            f"Indemnity: {format_eur(options.indemnity, lang)} per tutored establishment per school "
            "year, on-site or remote."
        )
        if problem.distance_matrix is None:
            out.append(
                "Road distance of a pair = great-circle distance × "
                f"{format_general(float(detour), lang)} (detour factor)."
            )
        else:
            out.append("Road distances: those of the given distance matrix.")
        out.append(
            "Yearly km of a tutor = sum over their on-site pairs of 2 × visits per year × road "
            f"distance, rounded {km_precision} (half up)."
        )
        out.append(
            "The yearly km billed (per tutor and in total) are these rounded km, tutor by tutor; the "
            f"splits by département, wave and pair show the unrounded km: {_km_pair(report)}."
        )
        out.append(
            f"Travel: the scale applied by tranches of these yearly km ({tranches}), after the "
            "service km already driven this year when given, at the rates of the vehicle class; "
            "the sum rounded to the cent."
        )
        out.append(f"Scale: {scale.reference}, in force since {_date(scale.in_force_from, lang)}.")
        remote = options.remote_cost
        out.append(
            "Remote pairs: no travel"
            + (f"; a fixed {format_eur(remote, lang)} per pair." if remote > 0 else ".")
        )
        out.append(
            f"Bonus: CIA × {format_general(float(options.multiplier), lang)}, rounded to the cent; "
            "not included where the CIA is not given."
        )
        out.append(
            "Splits by département and wave: a tutor's travel is shared among their on-site pairs in "
            "proportion to their km, their bonus equally among their establishments, to the cent; "
            "the splits add up to the total exactly."
        )
    return out


def _km_pair(report: ReportTables) -> str:
    """Return the two yearly km totals, billed and unrounded, as the tables print them."""
    lang = report.options.lang
    billed = float(report.costs.totals["yearly_km"].iloc[0])
    unrounded = math.fsum(report.costs.pairs["yearly_km"].tolist())
    b = format_number(billed, report.options.km_decimals, lang)
    u = format_number(unrounded, 1, lang)
    return f"{b} km retenus, {u} km non arrondis" if lang == "fr" else f"{b} km billed, {u} km unrounded"


def worked_example(report: ReportTables) -> str | None:
    """Return the travel computation of the tutor with the most yearly km, spelled out."""
    tutors = report.costs.tutors
    options = report.options
    lang = options.lang
    if not len(tutors) or float(tutors["yearly_km"].max()) <= 0:
        return None
    row = tutors.iloc[int(np.argmax(tutors["yearly_km"].to_numpy()))]
    vclass = options.scale.vehicle_class(str(row["vehicle_class"]))
    # The km of each tranche as the per-tutor table prints them: exactly.
    tranches = [f"km_tranche_{k}" for k in range(1, len(vclass.rates_eur_per_km) + 1)]
    km_decimals = exact_decimals(tutors[tranches].to_numpy().ravel().tolist(), at_least=options.km_decimals)
    rate_decimals = exact_decimals(vclass.rates_eur_per_km, at_least=2, at_most=4)
    parts = []
    for column, rate in zip(tranches, vclass.rates_eur_per_km, strict=True):
        km = float(row[column])
        if km > 0:
            parts.append(
                f"{format_number(km, km_decimals, lang)} × {format_number(rate, rate_decimals, lang)}"
            )
    who = report.tutor_label(str(row["tutor_id"]))
    km_total = format_number(float(row["yearly_km"]), options.km_decimals, lang)
    travel = format_eur(Decimal(str(row["travel_eur"])), lang)
    if lang == "fr":
        return (
            f"Exemple : {who}, {km_total} km par an, {vclass.label(lang)} : {' + '.join(parts)} = {travel}."
        )
    return f"Example: {who}, {km_total} km a year, {vclass.label(lang)}: {' + '.join(parts)} = {travel}."
