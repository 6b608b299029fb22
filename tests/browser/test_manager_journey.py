"""Journey 2: a cluster manager invites the members without a link, follows the response status, and reads the
cluster's report: a filter redraws the adoption chart, whose bars and table agree with the database.

The numbers the page shows are checked against the Response rows themselves (counts, shares and Wilson intervals
worked out here), not against the tallies the report reads. Every page reached passes axe-core's WCAG 2.1 A
and AA rules.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections import Counter

import pytest
from babel.numbers import format_percent
from playwright.sync_api import expect
from sqlalchemy import select

from reports.aggregate import wave_protection
from survey.models import Cluster, Invitation, Organisation, Response, Wave
from survey.models.invitations import hash_token
from survey.operations.setup import add_contact
from survey.questionnaire import default_document, parse

MANAGER = "manager@example.org"
PASSWORD = "demo-manager-password"
CLUSTER = "basque-digital"
CLUSTER_NAME = "Basque Digital Cluster"
#: The filter the manager changes: organisations of this size only (10 to 49 employees).
SIZE, SIZE_LABEL = "micro", "Fewer than 10"  # shown for the cluster in the closed demo wave
QUESTIONNAIRE = parse(default_document())
ANSWERS = [choice.code for choice in QUESTIONNAIRE.adoption_scale]
#: Two members added since the survey opened, without a link yet: one with a contact person, one without.
NEW_MEMBERS = {"Ortzi Robotics": ("Miren Etxeberria", "miren@ortzi.example"), "Gaztelu Analytics": None}
Z_95 = 1.959963984540054
WAVE_TITLE = "Cluster technology survey 2021 (demo)"
#: The answers' short names in the chart's legend and descriptions.
SHORT_ANSWERS = {"Using": "using", "Planning": "planning", "No plans": "not_planned", "Don't know": "dont_know"}


@pytest.fixture(scope="module")
def demo_responses() -> int:
    """Enough responses that the cluster, and its small organisations alone, are shown (docs/reports.md)."""
    return 1200


def _add_new_members(live_server) -> None:
    with live_server.app_context() as session:
        cluster = session.scalars(select(Cluster).filter_by(slug=CLUSTER)).one()
        for name, contact in NEW_MEMBERS.items():
            organisation = Organisation(
                name=name, country="ES", org_type="sme", size_class="small", ecosystem="digital", clusters=[cluster]
            )
            session.add(organisation)
            session.flush()
            if contact:
                add_contact(organisation, contact[1], contact[0])
        session.commit()


# --- what the database says, worked out independently of the report code -----------------------------------


def _percent(value: float) -> str:
    return format_percent(value, locale="en")


def _wilson(successes: int, n: int) -> tuple[float, float]:
    p, z2 = successes / n, Z_95 * Z_95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z_95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def roster_in_db(live_server) -> dict:
    """Members of the cluster, those invited (a working link, or answered anyway) and those who answered."""
    with live_server.app_context() as session:
        cluster = session.scalars(select(Cluster).filter_by(slug=CLUSTER)).one()
        wave = session.scalars(select(Wave).filter_by(slug=live_server.demo_wave)).one()
        members = {organisation.id for organisation in cluster.members}
        working = set(
            session.scalars(
                select(Invitation.organisation_id).where(
                    Invitation.wave_id == wave.id, Invitation.revoked_at.is_(None), Invitation.token_hash.is_not(None)
                )
            )
        )
        answered = set(session.scalars(select(Response.organisation_id).where(Response.wave_id == wave.id)))
    invited = members & (working | answered)
    responded = members & answered
    return {"members": len(members), "invited": len(invited), "responded": len(responded)}


def adoption_in_db(live_server, size: str | None = None) -> dict[str, dict]:
    """Per technology label: n, the count of each answer, from the wave's Response rows in the cluster."""
    with live_server.app_context() as session:
        wave = session.scalars(select(Wave).filter_by(slug=live_server.report_wave)).one()
        responses = [
            response
            for response in session.scalars(select(Response).filter_by(wave_id=wave.id))
            if CLUSTER in {cluster.slug for cluster in response.clusters}
            and (size is None or response.size_class == size)
        ]
        # Which rows the wave's protection withholds (answers all alike: the dominance rule; docs/reports.md).
        cluster_id = session.scalars(select(Cluster.id).filter_by(slug=CLUSTER)).one()
        protection = wave_protection(session.connection(), wave.id, 5)
    cell = tuple(sorted((("cluster", cluster_id), *((("size", size),) if size else ()))))
    table = {}
    for technology in QUESTIONNAIRE.technologies:
        counts = Counter(response.answers.get(technology.code) for response in responses)
        n = sum(counts[code] for code in ANSWERS)
        withheld = protection.answers_withheld(cell, technology.code)
        table[technology.label] = {"n": n, "withheld": withheld, **{code: counts[code] for code in ANSWERS}}
    return table


def expected_table_rows(adoption: dict[str, dict]) -> dict[str, list[str]]:
    """The adoption table's cells, as text, for each technology."""
    rows = {}
    for label, row in adoption.items():
        if row["withheld"]:
            rows[label] = ["withheld"]
            continue
        n = row["n"]
        using_or_planning = row["using"] + row["planning"]
        rows[label] = [
            str(n),
            *(_percent(row[code] / n) for code in ANSWERS),
            "–".join(_percent(bound) for bound in _wilson(row["using"], n)),
            _percent(using_or_planning / n),
            "–".join(_percent(bound) for bound in _wilson(using_or_planning, n)),
        ]
    return rows


# --- what the page shows ---------------------------------------------------------------------------------------

_TABLE = """table => Object.fromEntries([...table.tBodies[0].rows].map(row =>
  [row.cells[0].textContent.trim(), [...row.cells].slice(1).map(cell => cell.textContent.trim())]))"""

_BARS = """chart => [...chart.querySelectorAll('svg .mark-rect path')].map(path =>
  [path.getAttribute('aria-label'), path.getAttribute('d')])"""
#: A bar segment's outline as Vega's SVG renderer writes it: from (x, y), `width` to the right, then back.
_RECT = re.compile(r"M(?P<x>-?[\d.]+),(?P<y>-?[\d.]+)h(?P<width>[\d.]+)v")


def _log_in(page, live_server) -> None:
    page.goto(live_server.link("/login"))
    page.get_by_label("E-mail address").fill(MANAGER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def bars(page) -> list[dict[str, str]]:
    """The adoption chart's bar segments as Vega drew them: each SVG path's description, as a dict, with the
    segment's drawn width in pixels."""
    segments = []
    for label, outline in page.locator("#chart-adoption").evaluate(_BARS):
        assert label, "every bar segment carries its description"
        shape = _RECT.match(outline or "")
        assert shape, f"a bar segment is a rectangle: {outline!r}"
        segments.append({**dict(part.split(": ", 1) for part in label.split("; ")), "width": float(shape["width"])})
    return segments


def check_adoption(page, live_server, size: str | None = None) -> dict[str, list[str]]:
    """The chart has one bar segment per technology and answer given; the chart, the table under it and the
    database agree. Returns the table's cells."""
    adoption = adoption_in_db(live_server, size)
    expected_bars = sum(1 for row in adoption.values() for code in ANSWERS if row[code] and not row["withheld"])
    # Waiting for the count also waits for Vega to have drawn the chart.
    expect(page.locator("#chart-adoption svg.marks .mark-rect path")).to_have_count(expected_bars)

    table = page.locator("#table-adoption").evaluate(_TABLE)
    assert table == expected_table_rows(adoption), "the table under the chart agrees with the Response rows"

    drawn = bars(page)
    shown = {label for label, row in adoption.items() if not row["withheld"]}
    assert {bar["item"] for bar in drawn} == shown, "the chart shows the technologies the table shows"
    assert len({(bar["item"], bar["Answer"]) for bar in drawn}) == len(drawn), "one segment per technology and answer"
    # Each technology's segments add up to 100%: the whole axis.
    totals = Counter()
    for bar in drawn:
        totals[bar["item"]] += bar["width"]
    axis = max(totals.values())
    assert all(abs(total - axis) < 1 for total in totals.values()), totals
    for bar in drawn:
        code = SHORT_ANSWERS[bar["Answer"]]
        row = adoption[bar["item"]]
        assert (int(bar["Organisations"]), int(bar["n"])) == (row[code], row["n"]), bar
        share = row[code] / row["n"]
        assert abs(bar["width"] - share * axis) < 1, f"{bar}: drawn {bar['width']}px for {share:.1%} of {axis}px"
        # The table gives the same share in the answer's column.
        assert table[bar["item"]][1 + ANSWERS.index(code)] == _percent(share), bar
    return table


def check_responses_row(page, live_server) -> None:
    """The report's response table: the cluster's invitations and responses, as the database has them."""
    with live_server.app_context() as session:
        cluster = session.scalars(select(Cluster).filter_by(slug=CLUSTER)).one()
        wave = session.scalars(select(Wave).filter_by(slug=live_server.report_wave)).one()
        members = {organisation.id for organisation in cluster.members}
        invited = sum(
            1
            for invitation in session.scalars(select(Invitation).filter_by(wave_id=wave.id))
            if invitation.organisation_id in members
        )
        responses = sum(
            1
            for response in session.scalars(select(Response).filter_by(wave_id=wave.id))
            if cluster in response.clusters
        )
    row = page.locator(f'#table-responses tr[data-group="{CLUSTER}"]')
    expect(row.locator("th")).to_have_text(CLUSTER_NAME)
    expect(row.locator("td")).to_have_text([str(invited), str(responses), _percent(responses / invited)])


def check_wave_status(page, live_server, new_members_status: str) -> dict:
    roster = roster_in_db(live_server)
    expect(page.locator("p.figure")).to_contain_text(
        f"{roster['responded']} of {roster['invited']} invited members have submitted their answers "
        f"({_percent(roster['responded'] / roster['invited'])}). The cluster has {roster['members']} members."
    )
    for name in NEW_MEMBERS:
        expect(page.get_by_role("row", name=re.compile(re.escape(name))).locator(".status")).to_have_text(
            new_members_status
        )
    return roster


def test_a_manager_invites_members_follows_responses_and_filters_the_report(
    live_server, page, checkpoint, docs_screenshot
):
    _add_new_members(live_server)

    # Log in: the manager's home lists their clusters.
    _log_in(page, live_server)
    expect(page.get_by_role("heading", level=1, name="Your clusters")).to_be_visible()
    checkpoint(page, "clusters")
    page.get_by_role("link", name=CLUSTER_NAME).click()
    expect(page.get_by_role("heading", level=1, name=CLUSTER_NAME)).to_be_visible()
    checkpoint(page, "cluster")

    # The open wave: response status; the two new members have no link yet.
    page.get_by_role("link", name=WAVE_TITLE).click()
    expect(page.get_by_role("heading", level=1, name=WAVE_TITLE)).to_be_visible()
    before = check_wave_status(page, live_server, "Not invited")
    checkpoint(page, "wave")

    # Links for the members without one, downloaded as a CSV for a mail merge.
    page.get_by_label("Members without a working link").check()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Make links and download them (CSV)").click()
    download = download_info.value
    assert re.fullmatch(
        rf"invitation-links-{CLUSTER}-{live_server.demo_wave}-\d{{4}}-\d{{2}}-\d{{2}}\.csv", download.suggested_filename
    ), download.suggested_filename
    rows = list(csv.DictReader(io.StringIO(download.path().read_text("utf-8-sig"))))
    assert [(row["organisation"], row["contact_name"], row["contact_email"]) for row in rows] == sorted(
        (name, *(contact or ("", ""))) for name, contact in NEW_MEMBERS.items()
    ), "one row per member without a link (each contact person), and no other member"
    with live_server.app_context() as session:
        wave = session.scalars(select(Wave).filter_by(slug=live_server.demo_wave)).one()
        for row in rows:
            token = re.fullmatch(re.escape(live_server.link("/r/")) + r"([A-Za-z0-9_-]{20,})", row["link"])
            assert token, row["link"]
            organisation = session.scalars(select(Organisation).filter_by(name=row["organisation"])).one()
            invitation = session.scalars(
                select(Invitation).filter_by(wave_id=wave.id, organisation_id=organisation.id)
            ).one()
            assert invitation.token_hash == hash_token(token[1]), "the link is the invitation's"

    # The status follows: both are invited now, and the response rate counts them.
    page.reload()
    after = check_wave_status(page, live_server, "Invited")
    assert (after["invited"], after["responded"]) == (before["invited"] + 2, before["responded"])
    checkpoint(page, "wave-links-made")

    # The open wave's results are published when it closes; the wave page says so and links the last one's.
    expect(page.get_by_text("Results are published when the wave closes.")).to_be_visible()
    page.get_by_role("link", name=f"See the results of the last closed wave for {CLUSTER_NAME}").click()
    page.wait_for_url(re.compile(rf"/reports/{live_server.report_wave}\?cluster={CLUSTER}$"))
    expect(page.locator(".population")).to_have_text(f"Showing: {CLUSTER_NAME}")
    check_responses_row(page, live_server)
    everyone = check_adoption(page, live_server)
    checkpoint(page, "report")
    page.locator("#adoption").evaluate("section => window.scrollTo(0, section.offsetTop - 16)")
    docs_screenshot(page, "report")

    # Only small organisations: the page comes back with the filter in its address, and the chart is redrawn.
    page.get_by_label("Size").select_option(label=SIZE_LABEL)
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(rf"[?&]size={SIZE}(&|$)"))
    expect(page.get_by_label("Size")).to_have_value(SIZE)
    expect(page.locator(".population")).to_have_text(f"Showing: {CLUSTER_NAME} · Size: {SIZE_LABEL}")
    small = check_adoption(page, live_server, SIZE)
    assert small != everyone
    checkpoint(page, "report-small-organisations")
