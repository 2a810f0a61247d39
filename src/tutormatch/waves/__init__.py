"""Rollouts in dated waves: plan wave after wave, repair after a withdrawal.

See ``docs/waves.md``.
"""

from tutormatch.waves._calendar import WaveCalendar
from tutormatch.waves._example import example_rollout, example_rollout_frames
from tutormatch.waves._joint import plan_jointly
from tutormatch.waves._plan import Wave, WavePlan, plan_from_pairs, plan_waves
from tutormatch.waves._repair import Repair, WaveRepair, repair

__all__ = [
    "Repair",
    "Wave",
    "WaveCalendar",
    "WavePlan",
    "WaveRepair",
    "example_rollout",
    "example_rollout_frames",
    "plan_from_pairs",
    "plan_jointly",
    "plan_waves",
    "repair",
]


def __dir__() -> list[str]:
    return list(__all__)
