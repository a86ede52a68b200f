"""The HTML report in a real browser (headless Chromium, no network): the chart and the
table render, a page at a time, and the table sorts. Skipped where Chromium is missing."""

import re
import shutil
import subprocess

import pytest

from core.report.export import export
from core.report.rows import CONFLICT_COLUMNS, Report
from tests.report.payloads import PAYLOADS

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(BROWSER is None, reason="headless Chromium is not installed")


def dom(url: str, tmp_path) -> str:
    """The page's DOM after its script ran, with every network request refused."""
    result = subprocess.run(
        [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--proxy-server=127.0.0.1:9",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000",
         "--dump-dom", url],
        capture_output=True, text=True, timeout=120)
    return result.stdout


def test_the_report_renders_offline_with_its_chart_and_a_page_of_rows(tmp_path):
    rows = [[f"Person {i:04d}", *PAYLOADS[i % len(PAYLOADS):][:1] * (len(CONFLICT_COLUMNS) - 1)]
            for i in range(600)]
    report = Report("conflicts", "Browser check", list(CONFLICT_COLUMNS), rows, len(rows))
    report.tally.update({("ONE_SIDED", "strong"): 400, ("Q_BOUNCED", "medium"): 200})
    export(report, "html", tmp_path / "r.html")
    page = dom((tmp_path / "r.html").as_uri(), tmp_path)
    assert 'data-rendered="600"' in page  # the script ran to the end
    assert page.count("<rect") >= 2 + 4  # two bars and the legend
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert body.count("<tr") == 250  # one page, not all 600
    assert "Rows 1–250 of 600" in page
    assert "<script>alert" not in body and "<img" not in body
    first = re.search(r"<tr><td>(.*?)</td>", body).group(1)
    assert first == "Person 0000"
    page = dom((tmp_path / "r.html").as_uri() + "#sort=0-desc", tmp_path)
    body = page.split("<tbody>", 1)[1]
    assert re.search(r"<tr><td>(.*?)</td>", body).group(1) == "Person 0599"
