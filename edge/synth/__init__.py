"""The synthetic world: parcels, labels with real barcodes, brand marks and conveyor nuisances.

Tests, benchmarks, the demo and classifier training all draw from here, so
everything is seeded and every image comes with its truth.
"""
from __future__ import annotations

from edge.synth.nuisance import NAMES as NUISANCE_NAMES
from edge.synth.scene import ParcelSpec, render_parcel, render_still, sample_parcel

__all__ = ["NUISANCE_NAMES", "ParcelSpec", "render_parcel", "render_still", "sample_parcel"]
