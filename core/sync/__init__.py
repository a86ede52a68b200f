"""The workflows, once: connections, pull, reconcile, choices, plan; the CLI and the window call these."""
