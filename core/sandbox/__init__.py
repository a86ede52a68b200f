"""Local emulators of the Salesforce and Apollo APIs and the seeded data generator (DESIGN §4).

:func:`spawn` starts a whole sandbox: both emulators (:mod:`.salesforce`, :mod:`.apollo`)
serving one generated dataset over HTTPS on 127.0.0.1, with Apollo's sync between them
(:mod:`.integration`). ``concord sandbox serve`` runs one standalone (:mod:`.standalone`).
"""

from .running import RunningSandbox, spawn

__all__ = ["RunningSandbox", "spawn"]
