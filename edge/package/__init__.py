"""The package stage: a parcel's standard images, redacted copies and record, ready for the outbox."""
from __future__ import annotations

from edge.package.build import PackageError, build_package, write_package
from edge.package.config import PackageConfig

__all__ = ["PackageConfig", "PackageError", "build_package", "write_package"]
