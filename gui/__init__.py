"""Concord's window (PySide6): views, the table model, background operations, dialogs.

Nothing happens at import time; ``gui.launcher`` is the entry point.
"""
