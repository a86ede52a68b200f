"""Concord's engine: cache, matching, the decision rules, reconciliation, sources, sandbox.

Nothing in this package imports Qt or the ``gui`` package.
"""

from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("concord-reconciler")
except _metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+source"
