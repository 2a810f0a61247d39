"""Every explanation of an uncovered establishment reads in English and in French."""

from __future__ import annotations

import numpy as np
import pytest
from tests.conftest import random_frames

import tutormatch as tm
from tutormatch.model._eligibility import MODE_NONE, classify_pairs
from tutormatch.solve._reasons import (
    _SENTENCES,
    REASONS,
    UncoveredReason,
    eligible_tutor_counts,
    no_plan_reasons,
)

# One reason per sentence, with the facts the solve gives it.
EXAMPLES = [
    UncoveredReason("no_eligible_tutor", "no_capacity"),
    UncoveredReason("no_eligible_tutor", "no_earlier_wave", (("wave", "3"),)),
    UncoveredReason("no_eligible_tutor", "no_role", (("need", "accounting"),)),
    *(
        UncoveredReason("no_eligible_tutor", "out_of_reach", (("limit", limit), ("remote", remote)))
        for limit, remote in [
            ("60 km", "remote_switched_off"),
            ("60 km", "establishment_refuses_remote"),
            ("reach", "tutors_refuse_remote"),
            ("60 km", "own_or_forbidden"),
        ]
    ),
    UncoveredReason("tutors_full", "one_full", (("rule", ""),)),
    UncoveredReason("tutors_full", "many_full", (("count", 12), ("rule", "all_or_nothing"))),
    no_plan_reasons(1, "time limit reached {no solution}", "no_solution")[0],
]
# The reasons of a solve without a plan, one per status without one.
NO_PLAN = [
    no_plan_reasons(1, "CP-SAT: INFEASIBLE", "infeasible")[0],
    no_plan_reasons(1, "model invalid", "invalid")[0],
    no_plan_reasons(1, "OR-Tools refused the flow", "error")[0],
]


@pytest.mark.parametrize("why", EXAMPLES + NO_PLAN, ids=lambda why: why.sentence_key)
def test_sentences_in_both_languages(why: UncoveredReason) -> None:
    english, french = why.sentence("en"), why.sentence("fr")
    assert why.code in REASONS
    assert english
    assert french != english
    for value in dict(why.values).values():
        if isinstance(value, int) or value in ("3", "60 km"):
            assert str(value) in english
            assert str(value) in french
    assert "{" not in english.replace("{no solution}", "")


def test_facts_are_translated() -> None:
    why = EXAMPLES[3]  # out of reach, remote switched off
    assert why.sentence("en").endswith("60 km (or their own limit), and remote tutoring is switched off")
    assert why.sentence("fr").endswith("(ou de sa propre limite), et le tutorat à distance est désactivé")
    assert "comptabilité" in EXAMPLES[2].sentence("fr")
    assert "retenus par la règle du tout ou rien" in EXAMPLES[-2].sentence("fr")
    assert "dans la limite de la distance autorisée" in EXAMPLES[5].sentence("fr")


def test_no_plan_reads_in_french_without_the_solvers_english() -> None:
    """The solver's message is English: the French sentence says what the status means instead."""
    french = [why.sentence("fr") for why in (EXAMPLES[-1], *NO_PLAN)]
    assert french == [
        "pas de plan : aucun plan trouvé dans le temps imparti",
        "pas de plan : les règles et contraintes données n'admettent aucun plan",
        "pas de plan : le modèle a été refusé par le solveur (voir le message du solveur dans le résumé)",
        "pas de plan : le solveur a échoué (voir le message du solveur dans le résumé)",
    ]
    assert NO_PLAN[0].sentence("en") == "no plan: CP-SAT: INFEASIBLE"
    # An unknown status reads as a failure, never as a raw code.
    unknown = no_plan_reasons(1, "?", "optimal")[0].sentence("fr")
    assert unknown.endswith("le solveur a échoué (voir le message du solveur dans le résumé)")
    # The conflict found by the solve, in French, follows.
    why = no_plan_reasons(
        2,
        "T1 min load 3 cannot hold [INFEASIBLE]",
        "infeasible",
        "la charge minimale 3 de T1 ne peut être respectée",
    )
    assert len(why) == 2
    assert why[0].sentence("fr") == (
        "pas de plan : les règles et contraintes données n'admettent aucun plan ; "
        "la charge minimale 3 de T1 ne peut être respectée"
    )


def test_french_files_of_an_infeasible_plan_carry_no_english_reason() -> None:
    """Minimum loads no plan can meet: the uncovered table in French says it in French."""
    tutors, establishments = random_frames(3, 4, 0)
    tutors["min_load"] = 2
    tutors["capacity"] = 2
    problem = tm.Problem.from_frames(tutors, establishments, max_distance_km=1e4, allow_remote=False)
    plan = tm.solve(problem)
    assert plan.status is tm.Status.INFEASIBLE
    sentences = set(plan.uncovered_details("fr").tolist())
    assert len(sentences) == 1
    sentence = sentences.pop()
    assert sentence.startswith("pas de plan : les règles et contraintes données n'admettent aucun plan ; ")
    assert "cannot" not in sentence
    assert "INFEASIBLE" not in sentence


def test_every_sentence_is_used() -> None:
    used = {why.sentence_key for why in EXAMPLES + NO_PLAN}
    used |= {str(v) for why in EXAMPLES + NO_PLAN for v in dict(why.values).values()}
    assert set(_SENTENCES) - used == {"management", "both"}


@pytest.mark.parametrize("seed", range(8))
def test_eligible_counts_equal_a_brute_force(seed: int) -> None:
    """The vectorised counts (remote classes minus own, near and forbidden pairs) against every pair."""
    tutors, establishments = random_frames(12, 20, seed)
    rng = np.random.default_rng(seed)
    tutors["capacity"] = rng.integers(0, 3, len(tutors))
    forbidden = [
        (tutors["tutor_id"].iloc[i], establishments["uai"].iloc[j]) for i, j in ((0, 1), (2, 3), (4, 5))
    ]
    problem = tm.Problem.from_frames(
        tutors, establishments, max_distance_km=30, allow_remote=seed % 2 == 0, forbidden_pairs=forbidden
    )
    e = np.arange(problem.n_establishments)
    t_all = np.repeat(np.arange(problem.n_tutors), problem.n_establishments)
    e_all = np.tile(e, problem.n_tutors)
    ok = classify_pairs(problem, t_all, e_all, problem.distance_km(t_all, e_all)) != MODE_NONE
    ok &= problem.tutors.capacity[t_all] > 0
    expected = np.bincount(e_all[ok], minlength=problem.n_establishments)
    assert eligible_tutor_counts(problem, e).tolist() == expected.tolist()
    some = e[::3]
    assert eligible_tutor_counts(problem, some).tolist() == expected[some].tolist()
