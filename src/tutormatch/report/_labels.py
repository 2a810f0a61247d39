"""Labels of the rendered reports, in French and English.

Column names of the report DataFrames are English snake_case; files and
documents show them through :func:`label`. A missing label shows the key
itself, and a test checks that every column of every table has a label in
both languages.
"""

from __future__ import annotations

__all__ = ["LABELS", "VALUES", "label", "value_label"]

# key: (French, English)
LABELS: dict[str, tuple[str, str]] = {
    # columns
    "uai": ("UAI", "UAI"),
    "establishment_name": ("Établissement", "Establishment"),
    "departement": ("Département", "Département"),
    "wave": ("Vague", "Wave"),
    "kind": ("Type", "Kind"),
    "priority": ("Priorité", "Priority"),
    "tutor_id": ("Tuteur", "Tutor"),
    "tutor_name": ("Nom du tuteur", "Tutor name"),
    "mode": ("Modalité", "Mode"),
    "great_circle_km": ("Distance à vol d'oiseau (km)", "Great-circle distance (km)"),
    "road_km": ("Distance routière (km)", "Road distance (km)"),
    "visits_per_year": ("Visites par an", "Visits per year"),
    "yearly_km": ("Km par an", "Km per year"),
    "n_establishments": ("Établissements", "Establishments"),
    "n_onsite": ("Sur place", "On-site"),
    "n_remote": ("À distance", "Remote"),
    "n_tutors": ("Tuteurs rémunérés", "Tutors paid"),
    "vehicle_cv": ("Puissance fiscale (CV)", "Fiscal power (CV)"),
    "vehicle_class": ("Catégorie du barème", "Scale class"),
    "vehicle_class_assumed": ("Catégorie supposée", "Class assumed"),
    "prior_service_km": ("Km de service déjà parcourus", "Service km already driven"),
    "km_tranche_1": ("Km tranche 1", "Km in tranche 1"),
    "km_tranche_2": ("Km tranche 2", "Km in tranche 2"),
    "km_tranche_3": ("Km tranche 3", "Km in tranche 3"),
    "km_tranche_4": ("Km tranche 4", "Km in tranche 4"),
    "indemnity_eur": ("Indemnité (€)", "Indemnity (€)"),
    "travel_eur": ("Frais kilométriques (€)", "Travel (€)"),
    "remote_eur": ("Coût à distance (€)", "Remote cost (€)"),
    "cia_eur": ("CIA (€)", "CIA (€)"),
    "bonus_eur": ("Part variable (€)", "Bonus (€)"),
    "bonus_known": ("Part variable connue", "Bonus known"),
    "total_eur": ("Total (€)", "Total (€)"),
    "n_bonus_missing": ("Part variable non incluse (tuteurs)", "Bonus not included (tutors)"),
    "n_establishments_bonus_missing": (
        "Part variable non incluse (établissements)",
        "Bonus not included (establishments)",
    ),
    "n_vehicle_class_assumed": ("Catégorie de véhicule supposée (tuteurs)", "Vehicle class assumed (tutors)"),
    "budget_eur": ("Budget (€)", "Budget (€)"),
    "headroom_eur": ("Marge restante (€)", "Headroom (€)"),
    "fixed_cost_eur": ("Coût de recrutement (€)", "Recruitment cost (€)"),
    "recruited": ("Candidat recruté", "Candidate recruited"),
    "n_recruited": ("Candidats recrutés", "Candidates recruited"),
    "max_cv": ("Jusqu'à (CV)", "Up to (CV)"),
    "rate_1_eur_per_km": ("Taux tranche 1 (€/km)", "Rate, tranche 1 (€/km)"),
    "rate_2_eur_per_km": ("Taux tranche 2 (€/km)", "Rate, tranche 2 (€/km)"),
    "rate_3_eur_per_km": ("Taux tranche 3 (€/km)", "Rate, tranche 3 (€/km)"),
    "rate_4_eur_per_km": ("Taux tranche 4 (€/km)", "Rate, tranche 4 (€/km)"),
    "road_km_total": ("Distance routière totale, aller (km)", "Road km, total one way"),
    "road_km_max": ("Distance routière maximale (km)", "Road km, longest"),
    "measure": ("Mesure", "Measure"),
    "n_pairs": ("Binômes sur place", "On-site pairs"),
    "mean_km": ("Moyenne (km)", "Mean (km)"),
    "median_km": ("Médiane (km)", "Median (km)"),
    "p90_km": ("90e centile (km)", "90th percentile (km)"),
    "max_km": ("Maximum (km)", "Maximum (km)"),
    "threshold_km": ("Seuil (km)", "Threshold (km)"),
    "n_great_circle": ("Binômes à vol d'oiseau ≤ seuil", "Pairs within, great-circle"),
    "share_great_circle": ("Part à vol d'oiseau", "Share, great-circle"),
    "n_road": ("Binômes par la route ≤ seuil", "Pairs within, road"),
    "share_road": ("Part par la route", "Share, road"),
    "n_covered": ("Couverts", "Covered"),
    "n_uncovered": ("Non couverts", "Uncovered"),
    "share_covered": ("Taux de couverture", "Share covered"),
    "priority_total": ("Priorité totale", "Total priority"),
    "priority_covered": ("Priorité couverte", "Priority covered"),
    "reason_code": ("Motif", "Reason"),
    "reason": ("Détail", "Detail"),
    "item": ("Poste", "Item"),
    "value": ("Valeur", "Value"),
    "pseudonym": ("Pseudonyme", "Pseudonym"),
    # the rollout (tutormatch waves)
    "n_kept": ("Binômes conservés", "Pairs kept"),
    "n_new_pairs": ("Nouveaux binômes", "New pairs"),
    "n_tutors_eligible": ("Tuteurs disponibles", "Tutors with a place"),
    "n_tutors_active": ("Tuteurs actifs", "Tutors active"),
    "n_tutors_new": ("Tuteurs à recruter", "Tutors to recruit"),
    "n_needing_help": ("Établissements à accompagner", "Establishments needing help"),
    "share_priority_covered": ("Priorité couverte (part)", "Share of priority covered"),
    "school_year": ("Année scolaire", "School year"),
    "year": ("Année civile", "Calendar year"),
    "max_load": ("Charge maximale d'un tuteur", "Most held by a tutor"),
    "total_excl_travel_eur": ("Total hors frais kilométriques (€)", "Total before travel (€)"),
    "rollout_wave_costs:n_pairs": ("Binômes", "Pairs"),
    "rollout_waves:yearly_km": ("Km par an des nouveaux binômes", "Yearly km of the new pairs"),
    "rollout_calendar_years:yearly_km": ("Km de l'année (barème)", "Km of the year (scale)"),
    "rollout_calendar_years:n_establishments": ("Établissements accompagnés", "Establishments helped"),
    "rollout_school_years:n_establishments": ("Établissements accompagnés", "Establishments helped"),
    "rollout_waves": ("Vagues", "Waves"),
    "rollout_waves_chart": (
        "Vagues (% : part de la priorité couverte)",
        "Waves (%: share of priority covered)",
    ),
    "rollout_school_years": ("Années scolaires", "School years"),
    "rollout_calendar_years": ("Frais kilométriques par année civile", "Travel per calendar year"),
    "rollout_wave_costs": (
        "Coûts des nouveaux binômes de chaque vague, sur un an",
        "Euros of each wave's new pairs, for one year",
    ),
    "rollout_recruits": ("Tuteurs à recruter par département", "Tutors to recruit by département"),
    "rollout_title": ("Tutorat Op@le : déploiement par vagues", "Op@le tutoring: the rollout wave by wave"),
    "school_year_title": ("Tutorat Op@le : année scolaire {}", "Op@le tutoring: school year {}"),
    "rollout_chart": (
        "Couverture par vague et euros par année scolaire",
        "Coverage per wave and euros per school year",
    ),
    "school_year_pages": ("Pages par année scolaire", "Pages per school year"),
    "waves_of_year": ("Vagues de l'année scolaire", "Waves of the school year"),
    "euros_of_year": ("Euros de l'année scolaire", "Euros of the school year"),
    "coverage_of_year": ("Couverture de l'année scolaire", "Coverage of the school year"),
    "back_to_rollout": ("Retour au déploiement", "Back to the rollout"),
    "covered_of_needing": ("Établissements couverts", "Establishments covered"),
    "recruits_of_year": ("Tuteurs à recruter (vagues de l'année)", "Tutors to recruit (waves of the year)"),
    "euros_axis": ("Euros", "Euros"),
    "establishments_axis": ("Établissements", "Establishments"),
    "none_this_year": ("aucune", "none"),
    "rollout_note_periods": (
        "Indemnités, coûts à distance et part variable comptent par année scolaire (une lettre de "
        "mission) ; les frais kilométriques par année civile, car le barème compte les km depuis le "
        "1er janvier : ils ont leur propre tableau.",
        "Indemnities, remote costs and bonus count per school year (a mission letter); travel counts "
        "per calendar year, as the mileage scale counts km from 1 January: it has its own table.",
    ),
    "rollout_note_spread": (
        "Les visites sont supposées réparties également sur la période d'accompagnement : un binôme "
        "actif m mois d'une année civile y parcourt m/12 de ses km annuels.",
        "Visits are taken as spread evenly over the support period: a pair running m months of a "
        "calendar year drives m/12 of its yearly km in it.",
    ),
    "rollout_note_bonus": (
        "Part variable : CIA × multiplicateur par tuteur actif ; les tuteurs dont la CIA est inconnue "
        "sont comptés à part, non chiffrés.",
        "Bonus: CIA × multiplier per active tutor; tutors whose CIA is unknown are counted apart, "
        "not priced.",
    ),
    "rollout_note_calendar": (
        "Accompagnement {support} mois après le basculement ; un utilisateur peut tutorer après {live} "
        "mois d'utilisation ; l'année scolaire commence au mois {start}.",
        "Support for {support} months after a switch; a user may tutor after {live} months live; "
        "school years start in month {start}.",
    ),
    # the levers that would cover what is left (plan.shortfall)
    "group": ("Groupe", "Group"),
    "levers:kind": ("Levier", "Lever"),
    "change": ("Changement", "Change"),
    "covers": ("Couvre (UAI)", "Covers (UAI)"),
    "uncovers": ("Découvre (UAI)", "Uncovers (UAI)"),
    "n_covers": ("Établissements couverts en plus", "Establishments newly covered"),
    "priority_gain": ("Gain de priorité couverte", "Priority gained"),
    "cost_delta_eur": ("Variation du coût annuel (€)", "Change in yearly cost (€)"),
    "cost_delta_km": ("Variation de l'objectif (km-éq. par an)", "Change in the objective (km-eq. a year)"),
    # the same column, read differently in one table
    "costs_tutors:yearly_km": ("Km par an retenus (arrondis)", "Km per year billed (rounded)"),
    "costs_totals:yearly_km": (
        "Km par an retenus (somme des km arrondis par tuteur)",
        "Km per year billed (sum of each tutor's rounded km)",
    ),
    "costs_by_departement:yearly_km": ("Km par an (non arrondis)", "Km per year (unrounded)"),
    "costs_by_wave:yearly_km": ("Km par an (non arrondis)", "Km per year (unrounded)"),
    "costs_pairs:yearly_km": ("Km par an (non arrondis)", "Km per year (unrounded)"),
    # parameters
    "parameters": ("Paramètres", "Parameters"),
    "parameter": ("Paramètre", "Parameter"),
    "none": ("aucun", "none"),
    "param_date": ("Date du rapport", "Report date"),
    "param_version": ("Version", "Version"),
    "param_objective": ("Objectif", "Objective"),
    "param_gap": ("Écart à l'optimum prouvé (au plus)", "Gap to the proven optimum (at most)"),
    "param_input": ("Fichier d'entrée", "Input file"),
    "n_tutors_input": ("Tuteurs en entrée", "Tutors given"),
    "n_establishments_input": ("Établissements en entrée", "Establishments given"),
    "param_limit_km": ("Distance maximale sur place (km, à vol d'oiseau)", "On-site limit (great-circle km)"),
    "param_limit_min": ("Durée maximale sur place (min)", "On-site limit (min)"),
    "param_remote": ("Tutorat à distance permis", "Remote tutoring allowed"),
    "param_remote_penalty": ("Pénalité d'un binôme à distance (km)", "Remote pair penalty (km)"),
    "param_remote_penalty_default": (
        "par défaut : km annuels d'un binôme sur place à la limite",
        "default: the yearly km of an on-site pair at the limit",
    ),
    "param_all_or_nothing": (
        "Tout ou rien (capacité entière ou aucun)",
        "All or nothing (full capacity or none)",
    ),
    "param_fixed": ("Binômes imposés", "Fixed pairs"),
    "param_forbidden": ("Binômes interdits", "Forbidden pairs"),
    "param_detour": (
        "Facteur de détour (km routiers par km à vol d'oiseau)",
        "Detour factor (road km per km)",
    ),
    "param_matrix": ("matrice de distances fournie (km routiers)", "given distance matrix (road km)"),
    "param_bonus_multiplier": ("Multiplicateur de la CIA", "CIA multiplier"),
    "param_remote_pair_cost": ("Coût fixe d'un binôme à distance (€)", "Fixed cost of a remote pair (€)"),
    "param_fixed_cost": (
        "Coût de recrutement d'un candidat, par défaut (€)",
        "Recruitment cost of a candidate, by default (€)",
    ),
    "param_default_class": ("Catégorie de véhicule par défaut", "Default vehicle class"),
    "param_km_decimals": ("Décimales des km annuels retenus", "Decimals of the yearly km billed"),
    "param_scale": ("Barème kilométrique", "Mileage scale"),
    "param_thresholds": ("Seuils de distance", "Distance thresholds"),
    "param_pseudonymise": ("Pseudonymes", "Pseudonyms"),
    "param_lang": ("Langue", "Language"),
    # tables
    "costs_totals": ("Coûts : totaux", "Costs: totals"),
    "costs_by_departement": ("Coûts par département", "Costs by département"),
    "costs_by_wave": ("Coûts par vague", "Costs by wave"),
    "costs_tutors": ("Coûts par tuteur", "Costs per tutor"),
    "costs_pairs": ("Coûts par établissement", "Costs per establishment"),
    "mileage_scale": ("Barème kilométrique appliqué", "Mileage scale applied"),
    "distances_distribution": ("Distances : répartition", "Distances: distribution"),
    "distances_within": ("Distances : binômes sous les seuils", "Distances: pairs within thresholds"),
    "distances_longest": ("Distances : binômes les plus éloignés", "Distances: longest pairs"),
    "distances_tutors": ("Distances par tuteur", "Distances per tutor"),
    "distances_pairs": ("Distances par binôme", "Distances per pair"),
    "coverage_totals": ("Couverture : totaux", "Coverage: totals"),
    "coverage_by_departement": ("Couverture par département", "Coverage by département"),
    "coverage_by_wave": ("Couverture par vague", "Coverage by wave"),
    "coverage_by_kind": ("Couverture par type", "Coverage by kind"),
    "coverage_by_priority": ("Couverture par priorité", "Coverage by priority"),
    "coverage_uncovered": ("Établissements non couverts", "Uncovered establishments"),
    "levers": (
        "Leviers pour couvrir les établissements restants",
        "Levers to cover the establishments left out",
    ),
    "levers_intro": (
        "Chaque levier a été appliqué au problème, qui a été résolu à nouveau : les établissements "
        "couverts, le gain de priorité et la variation du coût annuel sont ceux de ce nouveau calcul, "
        "un levier à la fois. Les leviers d'un même groupe visent des établissements qui se disputent "
        "les mêmes tuteurs.",
        "Each lever was applied to the problem, which was solved again: the establishments covered, "
        "the priority gained and the change in yearly cost are those of that new solve, one lever at a "
        "time. Levers of one group aim at establishments that compete for the same tutors.",
    ),
    # spreadsheet tabs (31 characters at most)
    "sheet_costs_totals": ("Coûts - totaux", "Costs - totals"),
    "sheet_costs_by_departement": ("Coûts - départements", "Costs - départements"),
    "sheet_costs_by_wave": ("Coûts - vagues", "Costs - waves"),
    "sheet_costs_tutors": ("Coûts - tuteurs", "Costs - tutors"),
    "sheet_costs_pairs": ("Coûts - établissements", "Costs - establishments"),
    "sheet_mileage_scale": ("Barème kilométrique", "Mileage scale"),
    "sheet_distances_distribution": ("Distances - répartition", "Distances - distribution"),
    "sheet_distances_within": ("Distances - seuils", "Distances - thresholds"),
    "sheet_distances_longest": ("Distances - plus longues", "Distances - longest"),
    "sheet_distances_tutors": ("Distances - tuteurs", "Distances - tutors"),
    "sheet_distances_pairs": ("Distances - binômes", "Distances - pairs"),
    "sheet_coverage_totals": ("Couverture - totaux", "Coverage - totals"),
    "sheet_coverage_by_departement": ("Couverture - départements", "Coverage - départements"),
    "sheet_coverage_by_wave": ("Couverture - vagues", "Coverage - waves"),
    "sheet_coverage_by_kind": ("Couverture - types", "Coverage - kinds"),
    "sheet_coverage_by_priority": ("Couverture - priorités", "Coverage - priorities"),
    "sheet_coverage_uncovered": ("Non couverts", "Uncovered"),
    "sheet_levers": ("Leviers", "Levers"),
    # document text
    "report_title": (
        "Tutorat Op@le : rapport du plan d'affectation",
        "Op@le tutoring: assignment plan report",
    ),
    "summary": ("Synthèse", "Summary"),
    "costs": ("Coûts", "Costs"),
    "distances": ("Distances", "Distances"),
    "coverage": ("Couverture", "Coverage"),
    "map": ("Carte", "Map"),
    "map_title": ("Affectation des tuteurs Op@le", "Op@le tutor assignment"),
    "histogram": ("Distances des binômes sur place", "Distances of on-site pairs"),
    "method": ("Méthode de calcul", "How the figures are computed"),
    "status": ("Statut du plan", "Plan status"),
    "establishments_covered": ("Établissements couverts", "Establishments covered"),
    "tutors_used": ("Tuteurs mobilisés", "Tutors used"),
    "total_cost": ("Coût annuel total", "Total yearly cost"),
    "not_included": ("non incluse", "not included"),
    "unknown": ("inconnu", "unknown"),
    "yes": ("oui", "yes"),
    "no": ("non", "no"),
    "tutor": ("Tuteur", "Tutor"),
    "establishment_onsite": ("Établissement tutoré sur place", "Establishment tutored on-site"),
    "establishment_remote": ("Établissement tutoré à distance", "Establishment tutored remotely"),
    "establishment_uncovered": ("Établissement non couvert", "Establishment not covered"),
    "pair_onsite": ("Binôme sur place", "On-site pair"),
    "pair_remote": ("Binôme à distance", "Remote pair"),
    "outlines": ("Limites départementales", "Département outlines"),
    "count": ("Nombre de binômes", "Number of pairs"),
    "no_coordinates": (
        "Pas de coordonnées : carte et fichiers géographiques non produits.",
        "No coordinates: no map and no geographic files.",
    ),
}

# Values of categorical columns: (column, value) -> (French, English).
VALUES: dict[tuple[str, str], tuple[str, str]] = {
    ("mode", "onsite"): ("sur place", "on-site"),
    ("mode", "remote"): ("à distance", "remote"),
    ("measure", "great_circle_km"): ("à vol d'oiseau", "great-circle"),
    ("measure", "road_km"): ("par la route", "road"),
    ("reason_code", "no_eligible_tutor"): (
        "aucun tuteur ne peut tutorer cet établissement selon les règles",
        "no tutor may tutor this establishment under the rules",
    ),
    ("reason_code", "tutors_full"): (
        "tous les tuteurs éligibles sont déjà pris",
        "every eligible tutor is already taken",
    ),
    ("kind", "add_tutor"): ("ajouter un tuteur", "add a tutor"),
    ("kind", "raise_capacity"): ("augmenter une capacité", "raise a capacity"),
    ("kind", "raise_distance_limit"): ("allonger la distance maximale", "raise the distance limit"),
    ("kind", "allow_remote"): ("accepter le tutorat à distance", "allow remote tutoring"),
    ("kind", "relax_rule"): ("lever une règle pour un binôme", "relax a rule for one pair"),
    ("status", "optimal"): ("optimal (prouvé)", "optimal (proven)"),
    ("status", "feasible"): ("réalisable, optimalité non prouvée", "feasible, not proven optimal"),
    ("solver", "given"): (
        "plan fourni, vérifié par rapport aux règles",
        "given plan, checked against the rules",
    ),
    ("reason_code", "no_plan"): ("le calcul n'a produit aucun plan", "the solve produced no plan"),
    ("objective", "coverage_then_km"): (
        "couverture (priorité) d'abord, puis le moins de km annuels",
        "coverage (priority) first, then the fewest yearly km",
    ),
    ("objective", "km"): (
        "couverture (priorité) d'abord, puis le moins de km annuels",
        "coverage (priority) first, then the fewest yearly km",
    ),
    ("objective", "euros"): (
        "couverture (priorité) d'abord, puis le moindre coût annuel (€)",
        "coverage (priority) first, then the least yearly cost (EUR)",
    ),
    ("objective", "tutors"): (
        "couverture (priorité) d'abord, puis le moins de tuteurs, puis le moindre coût",
        "coverage (priority) first, then the fewest tutors, then the least cost",
    ),
}


def label(key: str, lang: str) -> str:
    """Return the label of ``key`` in ``lang`` (``"fr"`` or ``"en"``), or the key itself."""
    pair = LABELS.get(key)
    if pair is None:
        return key
    return pair[0] if lang == "fr" else pair[1]


def value_label(column: str, value: str, lang: str) -> str:
    """Return the label of a categorical value, or the value itself."""
    pair = VALUES.get((column, value))
    if pair is None:
        return value
    return pair[0] if lang == "fr" else pair[1]
