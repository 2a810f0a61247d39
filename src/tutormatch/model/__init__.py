"""The model: tutor and establishment tables, eligibility rules and :class:`Problem`."""

from tutormatch.model._costs import CostModel, PlanCost, TutorCost, plan_cost
from tutormatch.model._eligibility import Candidates
from tutormatch.model._problem import Problem
from tutormatch.model._rules import (
    DEFAULT_CAPACITY,
    DEFAULT_MAX_DISTANCE_KM,
    DEFAULT_ROLE_HELP,
    DEFAULT_VISITS_PER_YEAR,
    NEEDS,
    ROLES,
)
from tutormatch.model._tables import EstablishmentTable, TutorTable

__all__ = [
    "DEFAULT_CAPACITY",
    "DEFAULT_MAX_DISTANCE_KM",
    "DEFAULT_ROLE_HELP",
    "DEFAULT_VISITS_PER_YEAR",
    "NEEDS",
    "ROLES",
    "Candidates",
    "CostModel",
    "EstablishmentTable",
    "PlanCost",
    "Problem",
    "TutorCost",
    "TutorTable",
    "plan_cost",
]


def __dir__() -> list[str]:
    return list(__all__)
