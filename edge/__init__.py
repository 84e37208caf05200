"""parcel-edge: the software of a parcel imaging unit on a mail-facility conveyor.

Importing this package has no side effects; the composition root is
:mod:`edge.app` and the command line is :mod:`edge.cli`.
"""
__version__ = "0.1.0"
