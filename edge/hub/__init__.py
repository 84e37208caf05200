"""The officers' hub: the central side the units publish to (ingest, store, cases, sharing).

Kept in its own subpackage with its own extra (``pip install parcel-edge[hub]``)
so a unit's install carries no database drivers or web server.  Importing it
has no side effects; :mod:`edge.hub.app` is its composition root.
"""
