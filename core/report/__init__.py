"""Conflict and run reports as CSV, XLSX and self-contained HTML (DESIGN §6).

A report is plain data first (:mod:`core.report.rows`, :mod:`core.report.runs`); the
writers (:mod:`~core.report.csv`, :mod:`~core.report.xlsx`, :mod:`~core.report.html`) only
render it, every cell made safe for spreadsheets (:mod:`~core.report.cells`).
:mod:`~core.report.read` reads any report back, :mod:`~core.report.delta` compares with an
earlier one, and :mod:`~core.report.export` writes the file.
"""
