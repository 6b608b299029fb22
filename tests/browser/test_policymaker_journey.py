"""Journey 3: a policymaker narrows the report and downloads its CSV, its XLSX and the PDF brief; each file
parses and holds the numbers the page shows, withheld cells included.

Each file is checked against the tables on the page as the browser shows them: the long CSV and the XLSX
cell by cell (responses per cluster, adoption, adoption per cluster, challenges), the brief's key figures and
most used technologies. Every page reached passes axe-core's WCAG 2.1 A and AA rules.
"""

from __future__ import annotations

import csv
import io
import math
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from babel.numbers import format_percent
from openpyxl import load_workbook
from playwright.sync_api import expect
from pypdf import PdfReader

from survey.questionnaire import default_document, parse

POLICYMAKER = "policymaker@example.org"
PASSWORD = "demo-policymaker-password"
QUESTIONNAIRE = parse(default_document())
ADOPTION = [choice.code for choice in QUESTIONNAIRE.adoption_scale]
IMPORTANCE = [choice.code for choice in QUESTIONNAIRE.challenges[0].choices]
#: The view the policymaker downloads: one cluster's research organisations. Small groups per cluster (from 1 to
#: 8 in the demo data), so that the cluster breakdown has withheld cells as well as shown ones.
CLUSTER, CLUSTER_NAME = "flanders-health", "Flanders Health Cluster"
TYPE, TYPE_LABEL = "sme", "SME"  # shown for the cluster in the closed demo wave
WITHHELD = "withheld"
#: Sheets of the XLSX and tables of the long CSV, by table name.
SHEETS = {
    "responses": "Responses",
    "adoption": "Adoption",
    "adoption_by_cluster": "Adoption by cluster",
    "challenges": "Challenges",
}


@pytest.fixture(scope="module")
def demo_responses() -> int:
    return 1200


# --- the page's tables, as shown ------------------------------------------------------------------------------

_TABLE = """table => [...table.querySelectorAll('tbody tr, tfoot tr')].map(row => [
  row.dataset.item ?? row.dataset.group,
  [...row.cells].slice(1).map(cell => cell.textContent.replace(/\\s+/g, ' ').trim())])"""


def page_table(page, name: str) -> dict[str, list[str]]:
    """The table's cells as text, per row (keyed by technology or challenge code, or cluster slug; "" for the
    total row), without the row's heading."""
    return dict(page.locator(f"#table-{name}").evaluate(_TABLE))


def page_columns(page, name: str) -> list[str]:
    """The groups of a table whose columns are groups (cluster slugs)."""
    return page.locator(f"#table-{name} thead th[data-group]").evaluate_all(
        "cells => cells.map(cell => cell.dataset.group)"
    )


# --- the numbers, as the page would show them -----------------------------------------------------------------


def _pct(value) -> str:
    return format_percent(value, locale="en")


def _interval(values: dict, name: str) -> str:
    return f"{_pct(values[f'ci_{name}_low'])}–{_pct(values[f'ci_{name}_high'])}"


def shown_rows(tables: dict[str, dict[tuple[str, str], dict]], columns: list[str]) -> dict[str, dict]:
    """From a download's numbers (table -> (group, item) -> measure -> value, None where withheld), what each of
    the page's tables would show: the same shape as `page_table`."""
    rows: dict[str, dict] = {}
    responses = {}
    for (group, _item), values in tables["responses"].items():
        key = "" if group == "all" else group
        if values["suppressed"]:
            responses[key] = [str(values["invited"]), WITHHELD]
        else:
            rate = "–" if values["rate"] is None else _pct(values["rate"])
            responses[key] = [str(values["invited"]), str(values["responses"]), rate]
    rows["responses"] = responses

    adoption = {}
    for (_group, item), values in tables["adoption"].items():
        if values["suppressed"]:
            adoption[item] = [WITHHELD]
        else:
            adoption[item] = [
                str(values["n"]),
                *(_pct(values[f"share_{code}"]) for code in ADOPTION),
                _interval(values, "using"),
                _pct(values["share_using_or_planning"]),
                _interval(values, "using_or_planning"),
            ]
    rows["adoption"] = adoption

    heatmap: dict[str, list[str]] = {}
    for technology in QUESTIONNAIRE.technologies:
        cells = []
        for group in columns:
            values = tables["adoption_by_cluster"][(group, technology.code)]
            cells.append(
                WITHHELD
                if values["suppressed"]
                else f"{_pct(values['share_using'])} ({_interval(values, 'using')}, n={values['n']})"
            )
        heatmap[technology.code] = cells
    rows["heatmap"] = heatmap

    challenges = {}
    for (_group, item), values in tables["challenges"].items():
        if values["suppressed"]:
            challenges[item] = [WITHHELD]
        else:
            challenges[item] = [
                str(values["n"]),
                *(_pct(values[f"share_{code}"]) for code in IMPORTANCE),
                _pct(values["share_important"]),
                _interval(values, "important"),
            ]
    rows["challenges"] = challenges
    return rows


def _number(text: str | None):
    if text in (None, ""):
        return None
    return float(text) if re.search(r"[.eE]", text) else int(text)


def csv_tables(text: str) -> dict[str, dict[tuple[str, str], dict]]:
    """The long CSV, back in wide form: table -> (group, item) -> measure -> value."""
    tables: dict[str, dict[tuple[str, str], dict]] = {}
    for row in csv.DictReader(io.StringIO(text)):
        assert row["suppressed"] in ("true", "false"), row
        suppressed = row["suppressed"] == "true"
        assert not (suppressed and row["value"]), f"a withheld row carries a number: {row}"
        values = tables.setdefault(row["table"], {}).setdefault((row["group"], row["item"]), {})
        values["suppressed"] = suppressed
        values[row["measure"]] = _number(row["value"])
    return tables


def _same(a, b) -> bool:
    """Equal; numbers to the 15 significant digits a spreadsheet keeps (which also reads 1.0 back as 1)."""
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool) and not isinstance(b, bool):
        return math.isclose(a, b, rel_tol=1e-14, abs_tol=1e-15)
    return a == b and type(a) is type(b)


def xlsx_tables(path) -> dict[str, dict[tuple[str, str], dict]]:
    """The XLSX's table sheets: table -> (group, item) -> column -> value."""
    book = load_workbook(io.BytesIO(path.read_bytes()), read_only=True)  # the saved file has no extension
    assert {"Codebook", "About", *SHEETS.values()} <= set(book.sheetnames), book.sheetnames
    tables = {}
    for name, title in SHEETS.items():
        header, *rows = book[title].iter_rows(values_only=True)
        table = {}
        for row in rows:
            assert len(row) <= len(header), row
            # Empty cells at the end of a row (a withheld row's numbers) are not stored: they read as None.
            values = dict(zip(header, (*row, *[None] * (len(header) - len(row))), strict=True))
            key = (values.pop("group") or "", values.pop("item") or "")
            numbers = {
                column: value
                for column, value in values.items()
                if column not in {"wave", "group_dimension", "group_label", "item_label", "suppressed"}
            }
            if values["suppressed"]:
                assert all(value is None for value in numbers.values()), f"a withheld row carries a number: {row}"
            table[key] = {"suppressed": bool(values["suppressed"]), **numbers}
        tables[name] = table
    book.close()
    return tables


# --- the journey ----------------------------------------------------------------------------------------------


def download(page, live_server, link_name: str, path: str):
    """The file behind the link `link_name` of the page's downloads, saved by the browser; it is
    /reports/<wave>/<path> for the view the page shows."""
    query = urlsplit(page.url).query
    link = page.get_by_role("navigation", name="Downloads").get_by_role("link", name=link_name, exact=True)
    expect(link).to_be_visible()
    assert urlsplit(link.get_attribute("href")).path == f"/reports/{live_server.report_wave}/{path}"
    with page.expect_download() as download_info:
        link.click()
    saved = download_info.value
    assert saved.failure() is None, saved.failure()
    assert parse_qs(urlsplit(saved.url).query) == parse_qs(query), "the file is of the view the page shows"
    assert re.fullmatch(
        rf"{live_server.report_wave}-[a-z]+-\d{{4}}-\d{{2}}-\d{{2}}\.{path.rsplit('.', 1)[1]}", saved.suggested_filename
    ), saved.suggested_filename
    return saved


def test_a_policymaker_downloads_the_csv_the_xlsx_and_the_brief(live_server, page, checkpoint):
    page.goto(live_server.link("/login"))
    page.get_by_label("E-mail address").fill(POLICYMAKER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login" not in url)
    checkpoint(page, "home")

    # The report for one cluster's research organisations, chosen in the page's form.
    page.goto(live_server.link(f"/reports/{live_server.report_wave}"))
    page.get_by_role("checkbox", name=CLUSTER_NAME).check()
    page.get_by_label("Type of organisation").select_option(label=TYPE_LABEL)
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(rf"cluster={CLUSTER}.*type={TYPE}"))
    expect(page.locator(".population")).to_have_text(f"Showing: {CLUSTER_NAME} · Type of organisation: {TYPE_LABEL}")
    expect(page.locator("#chart-adoption svg.marks")).to_have_count(1)
    checkpoint(page, "report")
    columns = page_columns(page, "heatmap")
    shown = {name: page_table(page, name) for name in ("responses", "adoption", "heatmap", "challenges")}
    cells = {cell for row in shown["heatmap"].values() for cell in row}
    assert WITHHELD in cells and len(cells) > 1, "the cluster breakdown withholds some clusters, shows others"

    # The CSV: tidy long rows, the same numbers as every table on the page.
    csv_file = download(page, live_server, "CSV", "adoption.csv")
    from_csv = csv_tables(csv_file.path().read_text("utf-8-sig"))
    assert set(from_csv) == set(SHEETS)
    assert shown_rows(from_csv, columns) == shown

    # The XLSX: a sheet per table, the same numbers again (as numbers, not text).
    xlsx_file = download(page, live_server, "Excel", "adoption.xlsx")
    from_xlsx = xlsx_tables(xlsx_file.path())
    assert shown_rows(from_xlsx, columns) == shown
    differences = [
        (name, key, measure, value, from_csv[name].get(key, {}).get(measure, "missing"))
        for name in SHEETS
        for key, values in from_xlsx[name].items()
        for measure, value in values.items()
        if not _same(value, from_csv[name].get(key, {}).get(measure, "missing"))
    ]
    assert not differences and all(set(from_xlsx[name]) == set(from_csv[name]) for name in SHEETS), (
        f"the XLSX and the CSV disagree (table, row, measure, XLSX, CSV): {differences[:10]}"
    )

    # The PDF brief: the key figures of the page's response table, and its most used technologies.
    brief = download(page, live_server, "PDF brief", "brief.pdf")
    reader = PdfReader(brief.path())
    text = re.sub(r"\s+", " ", "\n".join(p.extract_text() for p in reader.pages))
    assert "Cluster technology survey 2019 (demo)" in text  # the closed wave
    total = shown["responses"][""]
    # The brief groups thousands (1,440); the page's table prints the plain number.
    assert f"Organisations invited: {int(total[0].replace(',', '')):,}" in text, text[:800]
    assert f"Responses: {int(total[1].replace(',', '')):,}" in text, text[:800]
    most_used = re.search(r"Most used technologies: (.+?) Method", text)
    assert most_used, text[:800]
    labels = {technology.label: technology.code for technology in QUESTIONNAIRE.technologies}
    named = re.findall(r"(.+?) (\d+)%(?:; |$)", most_used[1])
    assert len(named) == 3, most_used[1]
    shown_shares = [entry for entry in from_csv["adoption"].items() if entry[1]["share_using"] is not None]
    ranked = sorted(shown_shares, key=lambda entry: -entry[1]["share_using"])  # withheld rows rank nowhere
    for (label, percent), ((_, code), values) in zip(named, ranked, strict=False):
        assert labels[label] == code, (label, code)
        # The brief rounds as Python does, the page as CLDR does; both round the same share.
        assert abs(int(percent) - values["share_using"] * 100) <= 0.5 + 1e-9
        assert shown["adoption"][code][1] == _pct(values["share_using"])
    assert len(reader.pages) >= 2, "a page of key figures, then the charts"
