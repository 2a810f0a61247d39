r"""A budget closed by a price on coverage: the exact euro search, each unit of priority uncovered priced.

Notes
-----
Under a budget :math:`B` the objective ``"euros"`` covers the most priority
within :math:`B`, then spends the least euros. For a price :math:`p > 0` per
unit of integer priority left uncovered, the flows' branch and bound in
euros (:class:`~tutormatch.solve._euros.EuroBackend`, exact on the charges
and the scale) minimises :math:`c(x) + p\,u(x)` over every plan and proves a
bound :math:`\Lambda \le c(y) + p\,u(y)` for every plan :math:`y`. Then:

- every plan within the budget leaves :math:`u(y) \ge (\Lambda - B) / p`;
- if the search's plan :math:`x` fits the budget and
  :math:`\Lambda - p\,(u(x) - 1) > B`, no plan within the budget covers more
  (one unit more coverage costs more than the budget);
- if moreover the search is proven (:math:`c(x) + p\,u(x) \le \Lambda +
  \text{tol}`), every plan at that coverage costs at least
  :math:`\Lambda - p\,u(x) \ge c(x) - \text{tol}`: :math:`x` is optimal;
- whatever the search's plan, every plan that leaves :math:`u` costs at
  least :math:`\Lambda - p\,u`: a bound on the euros at a proven coverage
  (where the Lagrangian has a duality gap, the plan is not proven but the
  gap shrinks).

The search is the matching
(:class:`~tutormatch.solve._euros_matching.EuroMatching`, exact on the
charge), run where every tutor has at most two places: one blossom a price,
proven at its root unless a tranche is crossed. The prices
tried are those the Lagrangian flows of
:meth:`~tutormatch.solve._euros.EuroBackend.within_budget` found around the
budget (amortised charges: cheap, not exact); a few exact searches follow.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field

from tutormatch.model._costs import BUDGET_TOLERANCE_EUR, CostModel
from tutormatch.model._problem import Problem
from tutormatch.solve._backend import BackendResult
from tutormatch.solve._euros import euro_costs
from tutormatch.solve._euros_matching import EuroMatching
from tutormatch.solve._flow_time import FlowTimes, network_size
from tutormatch.solve._network import Network
from tutormatch.solve._options import SolveOptions
from tutormatch.solve._status import Status

__all__ = ["PricedBudget", "budget_by_price"]

#: Exact searches at most (the flows' prices, then the price at which two of their plans tie).
_MAX_PRICES = 4


@dataclass
class PricedBudget:
    """What the searches at a price on coverage proved and found."""

    proven: BackendResult | None = None  # a plan proven optimal within the budget
    least_uncovered: int = 0  # every plan within the budget leaves at least this much
    best: BackendResult | None = None  # the best plan within the budget (most coverage, then euros)
    bounds: list[tuple[float, float]] = field(default_factory=list)  # (price, proven bound)

    def euro_bound(self, uncovered: int) -> float:
        """Return the least euros of a plan leaving ``uncovered``: max over prices of bound - price x it."""
        return max((bound - price * uncovered for price, bound in self.bounds), default=math.nan)


def budget_by_price(
    problem: Problem,
    network: Network,
    model: CostModel,
    budget: float,
    prices_eur: list[float],
    options: SolveOptions,
) -> PricedBudget:
    """Try each price (module notes) where every tutor has at most two places (one blossom a price).

    The least uncovered integer priority and the bounds hold for every plan
    within the budget, whatever the searches' status.
    """
    started = time.perf_counter()
    out = PricedBudget()
    # Matchings, exact on the charge at two places, where no place must be filled: with three
    # places a search branches (a dozen seconds on the example académie), not worth its bound.
    if not (
        EuroMatching.fits(network)
        and not network.all_or_nothing
        and not bool((network.min_load > 0).any())
        and not bool((network.capacity > 2).any())
    ):
        return out
    costs = euro_costs(problem, network, model, "euros")
    deadline = started + options.time_limit if math.isfinite(options.time_limit) else math.inf
    times, size = FlowTimes(), network_size(network)  # a matching's time, shared by the prices
    slack = BUDGET_TOLERANCE_EUR
    # Prices a cent apart give the same search.
    prices_eur = list(dict.fromkeys(round(p, 2) for p in prices_eur if p > 0))
    over: list[tuple[int, float]] = []  # (uncovered, euros) of the plans over the budget
    k = 0
    while True:
        if k == len(prices_eur) and over and out.best is not None:
            # The price at which the best plan within and the cheapest plan beyond tie: the
            # tightest bound between them (once).
            u_in, c_in = int(out.best.stats["uncovered_int"]), float(out.best.stats["model_eur"])
            u_out, c_out = min(over, key=lambda uc: uc[1])
            if u_out < u_in:
                tie = round((c_out - c_in) / (u_in - u_out), 2)
                if tie > 0 and tie not in prices_eur and len(prices_eur) < _MAX_PRICES:
                    prices_eur.append(tie)
        if k >= len(prices_eur):
            break
        price = prices_eur[k]
        k += 1
        left = options.time_limit - (time.perf_counter() - started)
        if left <= 0 or not times.has_time(deadline, size):
            break  # not the time of one matching: the bounds of the prices tried hold
        share = left / max(len(prices_eur) - k + 1, 1) if math.isfinite(left) else left
        result = EuroMatching(network, costs, coverage_price=price).solve(
            dataclasses.replace(options, time_limit=share), flow_times=times
        )
        if not result.status.has_solution:
            continue
        price = float(result.stats["coverage_price_eur"])  # as rounded to the search's unit
        proven = float(result.stats["priced_bound_eur"])
        out.bounds.append((price, proven))
        out.least_uncovered = max(out.least_uncovered, math.ceil((proven - budget - slack) / price - 1e-9))
        cost = float(result.stats["model_eur"])
        uncovered = int(result.stats["uncovered_int"])
        if cost > budget + slack:
            over.append((uncovered, cost))
            continue
        if out.best is None or (uncovered, cost) < (
            int(out.best.stats["uncovered_int"]),
            float(out.best.stats["model_eur"]),
        ):
            out.best = result
        most = proven - price * (uncovered - 1) > budget + slack
        if most and result.status is Status.OPTIMAL:
            covered = int(network.priority_int[network.active].sum()) - uncovered
            out.proven = dataclasses.replace(
                result,
                message=f"within the budget at a price of {price:,.2f} EUR per unit of priority "
                f"left uncovered: {result.message}",
                bound=cost,
                stats={**result.stats, "bound_eur": cost, "priority_bound_int": covered},
            )
            return out
    return out
