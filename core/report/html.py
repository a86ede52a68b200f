"""A report as one self-contained HTML file: inline CSS and script, no network (a
Content-Security-Policy forbids any fetch), a chart of the rows by rule and strength drawn
as inline SVG, and the rows as JSON that a small script shows as a sortable, filterable,
paged table (a page at a time, so 100,000 rows open without freezing the browser).

Everything from the data is escaped: text in the page through :func:`html.escape`, the
JSON with ``<``, ``>`` and ``&`` written as ``\\u`` escapes so no value can end the script
element; the script puts values in the page with ``textContent`` only.
"""

from __future__ import annotations

import html
import json
import tempfile
from pathlib import Path
from typing import TextIO

from core.labels import STRENGTH_LABELS
from core.report.rows import Report, rule_text

TEMPLATE = Path(__file__).with_name("template.html")
DATA_START = '<script id="report-data" type="application/json">'
_JSON_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                               "\u2028": "\\u2028", "\u2029": "\\u2029"})
STRENGTH_COLOURS = {"strong": "#2f855a", "medium": "#2b6cb0", "review": "#c05621",
                    "none": "#a0aec0"}
# Repeated cells (rules, sources, statuses, companies) are written once per column and
# referred to by number: a 100,000-row report is a third smaller, and opens that much sooner.
DISTINCT_LIMIT = 5000  # distinct values remembered per column; later new values stay inline
_WRAPPED = ("reason", "native_rule", "rec_rule", "choice", "write_outcome", "sf_bounce_reason",
            "summary", "api_calls")


def to_json(value) -> str:
    """JSON safe inside a ``<script>`` element."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).translate(_JSON_ESCAPES)


def write_html(report: Report, out: TextIO) -> int:
    """Write ``report`` as HTML to a text stream; returns the number of rows written."""
    compared = report.compared()
    count = 0
    seen: list[dict[str, int]] = [{} for _ in report.columns]
    with tempfile.TemporaryFile("w+", encoding="utf-8") as rows:
        # The rows are written first (the chart needs their counts), then copied in place.
        for row in report.rows:
            cells = [[[int(flag), text] for flag, text in report.marked(row, c, compared)]
                     if c in compared and row[c] else _shared(seen[c], v)
                     for c, v in enumerate(row)]
            rows.write(("," if count else "") + to_json(cells) + "\n")
            count += 1
        before, after = TEMPLATE.read_text(encoding="utf-8").split("<!--DATA-->")
        before = before.replace("<!--TITLE-->", html.escape(report.title))
        before = before.replace("<!--HEAD-->", _head(report) + _chart(report))
        out.write(before)
        delta = report.index("delta") if any(c.key == "delta" for c in report.columns) else -1
        meta = {"format": "concord-report", "version": 1, "kind": report.kind,
                "title": report.title, "columns": report.titles, "resolved_column": delta,
                "wrap": [i for i, c in enumerate(report.columns) if c.key in _WRAPPED],
                "links": [i for i, c in enumerate(report.columns) if c.key.endswith("_link")],
                "shared": [list(values) for values in seen]}
        out.write(to_json(meta)[:-1] + ',"rows":[\n')
        rows.seek(0)
        while chunk := rows.read(1 << 20):
            out.write(chunk)
        out.write("]}")
        out.write(after)
    return count


def _shared(values: dict[str, int], text: str):
    """A cell as the number of its text in the column's shared values, or as itself."""
    if len(text) < 3:
        return text
    number = values.get(text)
    if number is None:
        if len(values) >= DISTINCT_LIMIT:
            return text
        number = values[text] = len(values)
    return number


def _head(report: Report) -> str:
    about = "".join(f"<dt>{html.escape(label)}</dt><dd>{html.escape(text)}</dd>"
                    for label, text in report.about)
    parts = [f"<header><h1>{html.escape(report.title)}</h1><dl class=\"about\">{about}</dl>"]
    if report.delta is not None:
        boxes = "".join(f"<div><b>{n:,}</b>{html.escape(label)}</div>"
                        for label, n in report.delta.items())
        parts.append(f"<h2>Since the previous report</h2><div class=\"delta\">{boxes}</div>")
    parts.append("</header>")
    return "".join(parts)


def _chart(report: Report) -> str:
    """Rows by the rule of the recommendation, each bar split by strength (inline SVG)."""
    if not report.tally:
        return ""
    by_rule: dict[str, dict[str, int]] = {}
    for (rule, strength), n in report.tally.items():
        by_rule.setdefault(rule, {})[strength] = n
    ordered = sorted(by_rule.items(), key=lambda kv: -sum(kv[1].values()))
    biggest = max(sum(v.values()) for _, v in ordered)
    label_w, bar_w, row_h = 420, 360, 22
    height = row_h * len(ordered) + 40
    out = [f'<section><h2>Rows by rule and strength</h2><svg class="chart" role="img" '
           f'aria-label="Rows by rule and strength" viewBox="0 0 {label_w + bar_w + 90} {height}" '
           f'width="{label_w + bar_w + 90}" height="{height}">']
    for i, (rule, counts) in enumerate(ordered):
        y = i * row_h
        total = sum(counts.values())
        out.append(f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end">'
                   f'{html.escape(rule_text(rule))}</text>')
        x = float(label_w)
        for strength in STRENGTH_COLOURS:
            n = counts.get(strength, 0)
            if not n:
                continue
            w = max(1.0, bar_w * n / biggest)
            out.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" '
                       f'fill="{STRENGTH_COLOURS[strength]}"><title>{html.escape(rule_text(rule))}: '
                       f'{n:,} {html.escape(_strength_word(strength))}</title></rect>')
            x += w
        out.append(f'<text x="{x + 6:.1f}" y="{y + 15}">{total:,}</text>')
    y = len(ordered) * row_h + 14
    x = label_w
    for strength, colour in STRENGTH_COLOURS.items():
        out.append(f'<rect x="{x}" y="{y}" width="12" height="12" fill="{colour}"></rect>'
                   f'<text x="{x + 16}" y="{y + 11}">{html.escape(_strength_word(strength))}</text>')
        x += 90
    out.append("</svg></section>")
    return "".join(out)


def _strength_word(strength: str) -> str:
    label = {s.value: text for s, text in STRENGTH_LABELS.items()}.get(strength, strength)
    return "no strength" if strength == "none" else label.lower()
