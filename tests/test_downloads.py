"""Report downloads as every role: every number against the independent recomputation (tests/reports_data.py),
suppression and scope as on the pages, real images and PDFs, formula injection neutralised, audit log."""

from __future__ import annotations

import csv
import io
import json
import struct
import zipfile
from xml.etree import ElementTree

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from survey.extensions import db
from survey.models import DownloadLog, Response, User
from tests.reports_data import ANSWERS, CHALLENGE_CODES, Reference, populate, raw_responses

SLUG = "wave-2021"
#: What people type that a spreadsheet would run, one per cluster name.
PAYLOADS = ['=HYPERLINK("http://x","y")', "+1", "-2+3", "@SUM(A1)"]
MIME = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
    "png": "image/png",
    "pdf": "application/pdf",
    "zip": "application/zip",
}


@pytest.fixture
def scenario(make_cluster, make_invited, open_wave):
    scenario = populate(make_cluster, make_invited, open_wave)
    for cluster, payload in zip(scenario.clusters.values(), PAYLOADS, strict=True):
        cluster.name = payload
    db.session.commit()
    return scenario


@pytest.fixture
def clients(scenario, make_user, quick_client_for):
    alpha = scenario.clusters["alpha"]
    return {
        "policymaker": quick_client_for(make_user("policy@example.org", "policymaker")),
        "admin": quick_client_for(make_user("admin@example.org", "admin")),
        "manager": quick_client_for(make_user("manager@example.org", "manager", [alpha])),
    }


def _get(client, path: str, fmt: str, **params):
    response = client.get(path, query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == MIME[fmt]
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="wave-2021-') and disposition.endswith(f'.{fmt}"')
    return response.get_data()


def _long(body: bytes) -> list[dict[str, str]]:
    assert body.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def _technologies(scenario) -> list[str]:
    return [tech.code for tech in scenario.wave.questionnaire.parsed.technologies]


def _check_long(rows, table: str, expected: dict, slug_of) -> None:
    """The long CSV's rows of one table equal the recomputation; withheld rows carry no values."""
    seen = set()
    for row in (r for r in rows if r["table"] == table):
        group = slug_of(row["group"]) if row["group"] else None
        key = (group, row["item"])
        assert key in expected, key
        seen.add(key)
        want = expected[key]
        assert row["suppressed"] == ("true" if want["suppressed"] else "false"), key
        if want["suppressed"]:
            assert row["value"] == "", (key, row["measure"])
        elif row["measure"] in ("n", *ANSWERS, *CHALLENGE_CODES):
            assert int(row["value"]) == want[row["measure"]], (key, row["measure"])
        elif row["measure"].startswith("share_") and row["measure"][6:] in want["shares"]:
            assert float(row["value"]) == pytest.approx(want["shares"][row["measure"][6:]])
        elif row["measure"] in ("ci_using_low", "ci_using_high"):
            assert float(row["value"]) == pytest.approx(want["ci_using"][row["measure"].endswith("high")])
    assert seen == set(expected)


def test_csv_matches_the_recomputation_and_suppresses_like_the_pages(clients, scenario):
    rows = _long(_get(clients["policymaker"], f"/reports/{SLUG}/adoption.csv", "csv"))
    reference = Reference(*raw_responses())
    technologies = _technologies(scenario)
    ids = {slug: cluster.id for slug, cluster in scenario.clusters.items()}
    _check_long(rows, "adoption", reference.table(scenario.wave.id, {}, None, technologies, ANSWERS), None)
    by_cluster = reference.table(scenario.wave.id, {}, "cluster", technologies, ANSWERS)
    _check_long(rows, "adoption_by_cluster", by_cluster, ids.get)
    challenges = [c.code for c in scenario.wave.questionnaire.parsed.challenges]
    _check_long(rows, "challenges", reference.table(scenario.wave.id, {}, None, challenges, CHALLENGE_CODES), None)
    withheld = {r["group"] for r in rows if r["table"] == "adoption_by_cluster" and r["suppressed"] == "true"}
    assert {"gamma", "delta"} <= withheld and "alpha" not in withheld
    responses = {r["group"]: r for r in rows if r["table"] == "responses" and r["measure"] == "responses"}
    assert responses["all"]["value"] == "39" and responses["gamma"]["value"] == ""
    # A filtered download is the filtered population, like the page.
    filtered = _long(_get(clients["policymaker"], f"/reports/{SLUG}/adoption.csv", "csv", cluster="alpha"))
    _check_long(
        filtered,
        "adoption",
        reference.table(scenario.wave.id, {"cluster": ids["alpha"]}, None, technologies, ANSWERS),
        None,
    )


def test_xlsx_has_a_sheet_per_table_numbers_as_numbers_and_no_formulas(clients, scenario):
    book = load_workbook(io.BytesIO(_get(clients["policymaker"], f"/reports/{SLUG}/adoption.xlsx", "xlsx")))
    assert book.sheetnames == ["Responses", "Adoption", "Adoption by cluster", "Challenges", "Codebook", "About"]
    assert all(cell.data_type != "f" for sheet in book for row in sheet.iter_rows() for cell in row)
    sheet = book["Adoption by cluster"]
    header = [cell.value for cell in sheet[1]]
    records = [dict(zip(header, (c.value for c in row), strict=True)) for row in sheet.iter_rows(min_row=2)]
    reference = Reference(*raw_responses())
    expected = reference.table(scenario.wave.id, {}, "cluster", _technologies(scenario), ANSWERS)
    ids = {slug: cluster.id for slug, cluster in scenario.clusters.items()}
    assert len(records) == len(expected)
    for record in records:
        want = expected[(ids[record["group"]], record["item"])]
        assert record["suppressed"] is want["suppressed"]
        if want["suppressed"]:
            assert record["n"] is None and record["using"] is None and record["share_using"] is None
        else:
            assert isinstance(record["n"], int) and record["n"] == want["n"] and record["using"] == want["using"]
            assert isinstance(record["share_using"], float)
            assert record["share_using"] == pytest.approx(want["shares"]["using"])
    about = {row[0].value: row[1].value for row in book["About"].iter_rows(min_row=2)}
    assert about["Responses"] == 39 and about["Minimum cell size (k)"] == 5 and "Wilson" in about["Intervals"]


def test_json_matches_and_withholds(clients, scenario):
    body = json.loads(_get(clients["policymaker"], f"/reports/{SLUG}/adoption.json", "json"))
    assert body["survey"] == SLUG and body["min_cell"] == 5
    reference = Reference(*raw_responses())
    expected = reference.table(scenario.wave.id, {}, None, _technologies(scenario), ANSWERS)
    for row in body["tables"]["adoption"]:
        want = expected[(None, row["item"])]
        assert row["n"] == want["n"] and row["using"] == want["using"]
        assert row["ci_using_low"] == pytest.approx(want["ci_using"][0])
    gamma = [row for row in body["tables"]["adoption_by_cluster"] if row["group"] == "gamma"]
    assert gamma and all(row["suppressed"] and row["n"] is None and row["share_using"] is None for row in gamma)


def test_typed_text_is_neutralised_in_every_csv_and_is_text_in_every_xlsx(clients, scenario):
    client = clients["policymaker"]
    wanted = {"'" + payload for payload in PAYLOADS}
    rows = _long(_get(client, f"/reports/{SLUG}/adoption.csv", "csv"))
    labels = {row["group_label"] for row in rows if row["group_dimension"] == "cluster"}
    assert wanted <= labels and not set(PAYLOADS) & labels
    codebook = list(csv.reader(io.StringIO(_get(client, f"/reports/{SLUG}/codebook.csv", "csv").decode("utf-8-sig"))))
    assert wanted <= {row[2] for row in codebook if row[0] == "cluster"}
    book = load_workbook(io.BytesIO(_get(client, f"/reports/{SLUG}/adoption.xlsx", "xlsx")))
    cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row]
    assert wanted <= {cell.value for cell in cells}
    assert all(cell.data_type == "s" for cell in cells if cell.value in wanted)
    assert not any(cell.data_type == "f" for cell in cells)
    # The same in the pack's copies.
    pack = zipfile.ZipFile(io.BytesIO(_get(client, f"/reports/{SLUG}/summary.zip", "zip")))
    for name in pack.namelist():
        if name.endswith(".csv") and "adoption" in name:
            assert wanted <= {row["group_label"] for row in _long(pack.read(name))}


def _png_size(body: bytes) -> tuple[int, int]:
    assert body[:8] == b"\x89PNG\r\n\x1a\n" and body[12:16] == b"IHDR"
    return struct.unpack(">II", body[16:24])


@pytest.mark.parametrize("role", ["policymaker", "manager", "admin"])
def test_every_format_as_every_role(clients, scenario, role):
    client = clients[role]
    params = {"cluster": "alpha"}
    for fmt in ("csv", "xlsx", "json"):
        _get(client, f"/reports/{SLUG}/adoption.{fmt}", fmt, **params)
    png = _get(client, f"/reports/{SLUG}/charts/adoption.png", "png", **params)
    width, height = _png_size(png)
    assert width >= 640 and height >= 200  # drawn at twice the page's 640 px width, rows for 16 technologies
    svg = client.get(f"/reports/{SLUG}/charts/adoption.svg", query_string=params)
    root = ElementTree.fromstring(svg.get_data())
    assert root.tag.endswith("svg") and any("mark-rect" in (e.get("class") or "") for e in root.iter())
    chart = PdfReader(io.BytesIO(_get(client, f"/reports/{SLUG}/charts/heatmap.pdf", "pdf", **params)))
    assert len(chart.pages) == 1 and "Cloud" in chart.pages[0].extract_text()
    brief = PdfReader(io.BytesIO(_get(client, f"/reports/{SLUG}/brief.pdf", "pdf")))
    text = "\n".join(page.extract_text() for page in brief.pages)
    # Key figures and method on page 1, then adoption, heat map, waves and challenges (no clusters chosen).
    assert len(brief.pages) == 5
    for words in (
        "Key figures",
        "Responses: 39",
        "Method",
        "Wilson",
        "fewer than 5 responses",
        "Adoption by technology",
        "Clusters by technology",
        "Change between waves",
        "Challenges since the pandemic",  # titled as on the page (reports.sections.SECTIONS)
    ):
        assert words in text, words
    pack = zipfile.ZipFile(io.BytesIO(_get(client, f"/reports/{SLUG}/summary.zip", "zip")))
    suffixes = sorted(name.split("-", 2)[2].split("-")[0] + "." + name.rsplit(".", 1)[1] for name in pack.namelist())
    assert suffixes == ["adoption.csv", "adoption.xlsx", "brief.pdf", "codebook.csv"]
    rows = _long(_get(client, f"/reports/{SLUG}/adoption.csv", "csv"))
    clusters = {row["group"] for row in rows if row["table"] == "adoption_by_cluster"}
    # A manager sees their cluster and the total only; everyone else every cluster.
    assert clusters == ({"alpha"} if role == "manager" else {"alpha", "beta", "gamma", "delta"})


def test_a_manager_asking_for_another_cluster_gets_404_in_every_format(clients, scenario):
    client = clients["manager"]
    for path in (
        "adoption.csv",
        "adoption.xlsx",
        "adoption.json",
        "codebook.csv",
        "charts/adoption.png",
        "charts/adoption.pdf",
        "brief.pdf",
        "summary.zip",
    ):
        assert client.get(f"/reports/{SLUG}/{path}?cluster=beta").status_code == 404, path
    assert client.get(f"/reports/{SLUG}/adoption.csv?nonsense=1").status_code == 400


def test_downloads_are_audited_and_rate_limited(app, clients, scenario):
    client = clients["policymaker"]
    _get(client, f"/reports/{SLUG}/adoption.csv", "csv", size="small")
    _get(client, f"/reports/{SLUG}/charts/challenges.png", "png")
    logs = db.session.scalars(select(DownloadLog).order_by(DownloadLog.id)).all()
    assert [(log.what, log.survey, log.filters) for log in logs] == [
        ("adoption.csv", SLUG, {"size": ["small"]}),
        ("chart:challenges.png", SLUG, {}),
    ]
    policymaker = db.session.scalars(select(User).filter_by(email="policy@example.org")).one()
    assert {log.user_id for log in logs} == {policymaker.id} and all(log.downloaded_at for log in logs)
    app.config["EXPORT_RATE_LIMIT"] = "1 per minute"
    statuses = [clients["manager"].get(f"/reports/{SLUG}/adoption.json").status_code for _ in range(2)]
    assert statuses == [200, 429]


def test_the_full_response_export_is_for_admins_pseudonymous_and_safe(app, clients, scenario):
    for role in ("policymaker", "manager"):
        assert clients[role].get(f"/reports/{SLUG}/responses.csv").status_code == 403
    typed = db.session.scalars(select(Response).filter_by(wave_id=scenario.wave.id).order_by(Response.id)).first()
    typed.answers = {**typed.answers, "comments": PAYLOADS[0]}
    typed.region = "-2+3"
    db.session.commit()
    response = clients["admin"].get(f"/reports/{SLUG}/responses.csv")
    assert response.status_code == 200 and response.is_streamed and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="wave-2021-responses-')
    body = response.get_data().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == 39
    earlier = list(
        csv.DictReader(
            io.StringIO(clients["admin"].get("/reports/wave-2019/responses.csv").get_data().decode("utf-8-sig"))
        )
    )
    reference, _ = raw_responses()
    assert len(earlier) == (reference["wave_id"] == scenario.earlier.id).sum() > 0
    # The pseudonym is stable across waves and is not the organisation's id.
    assert {row["organisation"] for row in earlier} <= {row["organisation"] for row in rows}
    ids = {str(org.id) for org in scenario.organisations}
    assert not ids & {row["organisation"] for row in rows}
    assert all(len(row["organisation"]) == 16 for row in rows)
    # No names or contact data; clusters by slug; answers by code.
    for organisation in scenario.organisations:
        assert organisation.name not in body
    assert "@" not in body.replace("'@SUM", "")
    wave = reference[reference["wave_id"] == scenario.wave.id]
    assert sorted(row["ai"] for row in rows) == sorted(wave["ai"])
    assert {row["clusters"] for row in rows} == {"alpha", "alpha;beta", "beta", "gamma", "delta"}
    first = next(row for row in rows if row["response"] == str(typed.id))
    assert first["comments"] == "'" + PAYLOADS[0] and first["region"] == "'-2+3"
    assert db.session.scalars(select(DownloadLog.what)).all() == ["responses.csv", "responses.csv"]


def test_contact_emails_reach_no_report_download_or_api_answer(scenario, clients):
    """Issue 4: contact persons' e-mails appear in no report, no policymaker download, no API answer."""
    from survey.models import Organisation
    from survey.operations.setup import add_contact

    organisations = db.session.scalars(select(Organisation)).all()
    addresses = [f"person{index}@members.example" for index in range(len(organisations))]
    for organisation, address in zip(organisations, addresses, strict=True):
        add_contact(organisation, address, "Contact Person")
    db.session.commit()

    policymaker = clients["policymaker"]
    bodies = [
        policymaker.get("/reports/wave-2021").get_data(),
        policymaker.get("/api/v1/surveys/wave-2021/adoption", query_string={"by": "cluster"}).get_data(),
        _get(policymaker, "/reports/wave-2021/adoption.csv", "csv"),
        _get(policymaker, "/reports/wave-2021/adoption.json", "json"),
    ]
    workbook = load_workbook(io.BytesIO(_get(policymaker, "/reports/wave-2021/adoption.xlsx", "xlsx")))
    bodies.append(
        " ".join(
            str(cell.value) for sheet in workbook for row in sheet.iter_rows() for cell in row if cell.value is not None
        ).encode()
    )
    brief = PdfReader(io.BytesIO(_get(policymaker, "/reports/wave-2021/brief.pdf", "pdf")))
    bodies.append(" ".join(page.extract_text() for page in brief.pages).encode())
    assert len(bodies) == 6 and all(bodies)
    for body in bodies:
        assert b"@members.example" not in body and b"Contact Person" not in body
