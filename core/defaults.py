"""Defaults shared by the command line, the window and the sandbox, defined once.

Each is the value a newcomer meets without passing an option: the demo's generated
workspace, and the standalone sandbox of ``concord sandbox serve``.
"""

DEMO_RECORDS = 2_000  # pairs the demo generates (window and ``concord demo --text``)
DEMO_SEED = 7  # the demo's data seed: the same conflicts on every machine
DEMO_EXAMPLES = 12  # example pairs ``concord demo --text`` prints

SANDBOX_RECORDS = 10_000  # pairs ``concord sandbox serve`` generates
SANDBOX_SEED = 1

RECONCILE_EXAMPLES = 6  # example pairs ``concord reconcile`` prints
RUNS_LIMIT = 20  # runs ``concord runs`` lists
