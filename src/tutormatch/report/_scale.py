"""The mileage scale; it lives in :mod:`tutormatch.model._scale` (the cost model's), re-exported here."""

from tutormatch.model._scale import MileageScale, VehicleClass, mileage_scale

__all__ = ["MileageScale", "VehicleClass", "mileage_scale"]
