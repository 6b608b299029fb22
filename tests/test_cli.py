"""The commands a new user and an operator run."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from survey.extensions import db
from survey.models import Contact, Invitation, Organisation, Response, Wave
from tests.conftest import complete_answers, csrf_token

# The dialect matters here: run on PostgreSQL too (tests/conftest.py).
pytestmark = pytest.mark.both_databases

LINK = re.compile(r"^http://survey\.test/r/([A-Za-z0-9_-]{32})$")


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_demo_loads_waves_clusters_and_responses_and_prints_a_working_link(runner, client):
    result = runner.invoke(args=["demo", "--responses", "40", "--seed", "7"])
    assert result.exit_code == 0, result.output
    link = result.stdout.strip().splitlines()[-1].removeprefix("Demo invitation link: ")
    token = LINK.match(link).group(1)
    assert _count(Response) >= 40  # 40 in the open wave, some in the earlier one
    open_wave = db.session.scalars(select(Wave).filter_by(slug="demo-2021")).one()
    assert db.session.scalar(select(func.count()).select_from(Response).filter_by(wave_id=open_wave.id)) == 40

    page = client.get(f"/r/{token}")
    assert page.status_code == 200
    data = complete_answers(open_wave.questionnaire.parsed)
    posted = client.post(
        f"/r/{token}", data={**data, "action": "submit", "csrf_token": csrf_token(page.get_data(as_text=True))}
    )
    assert posted.status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Response).filter_by(wave_id=open_wave.id)) == 41


def test_demo_is_repeatable_with_a_seed_and_differs_between_clusters(runner):
    assert runner.invoke(args=["demo", "--responses", "200", "--seed", "3"]).exit_code == 0
    rows = db.session.execute(select(Response.answers, Response.ecosystem)).all()
    digital = [a["ai"] for a, eco in rows if eco == "digital"]
    textiles = [a["ai"] for a, eco in rows if eco == "textiles"]
    assert digital and textiles
    assert digital.count("using") / len(digital) > textiles.count("using") / len(textiles)


def test_demo_run_again_keeps_data_and_prints_the_same_link(runner, client):
    first = runner.invoke(args=["demo", "--responses", "10"])
    second = runner.invoke(args=["demo", "--responses", "10"])
    assert second.exit_code == 0
    link = second.stdout.strip().splitlines()[-1]
    assert first.stdout.strip().splitlines()[-1] == link  # the demo organisation's link, still working
    assert client.get("/r/" + LINK.match(link.removeprefix("Demo invitation link: ")).group(1)).status_code == 200
    assert "already loaded" in second.stderr
    assert db.session.scalar(select(func.count()).select_from(Wave)) == 2


def test_invitations_create_makes_what_is_missing_and_prints_one_link(runner, client, open_wave, make_cluster):
    make_cluster("basque-digital")
    db.session.commit()
    result = runner.invoke(
        args=[
            "invitations",
            "create",
            "--survey",
            "wave-2021",
            "--organisation",
            "Nova Labs",
            "--cluster",
            "basque-digital",
            "--email",
            "ana@nova.example",
        ]
    )
    assert result.exit_code == 0, result.output
    assert len(result.stdout.strip().splitlines()) == 1
    token = LINK.match(result.stdout.strip()).group(1)
    organisation = db.session.scalars(select(Organisation).filter_by(name="Nova Labs")).one()
    assert [c.slug for c in organisation.clusters] == ["basque-digital"]
    assert [c.email for c in db.session.scalars(select(Contact))] == ["ana@nova.example"]
    assert client.get(f"/r/{token}").status_code == 200

    command = ["invitations", "create", "--survey", "wave-2021", "--organisation", "Nova Labs"]
    again = runner.invoke(args=[*command, "--cluster", "basque-digital"])
    assert again.exit_code == 0
    assert LINK.match(again.stdout.strip()).group(1) == token  # the same link, still working
    replaced = runner.invoke(args=[*command, "--cluster", "basque-digital", "--new-link"])
    assert replaced.exit_code == 0 and "now says it was replaced" in replaced.stderr
    new_token = LINK.match(replaced.stdout.strip()).group(1)
    assert new_token != token and client.get(f"/r/{new_token}").status_code == 200
    old = client.get(f"/r/{token}")
    assert old.status_code == 410 and "replaced by a newer one" in old.get_data(as_text=True)
    assert _count(Invitation) == 1 and _count(Organisation) == 1


def test_invitations_create_refuses_unknown_survey_cluster_and_bad_email(runner, open_wave, make_cluster):
    make_cluster("basque-digital")
    db.session.commit()
    base = ["invitations", "create", "--organisation", "X"]
    unknown_survey = runner.invoke(args=[*base, "--survey", "nope", "--cluster", "basque-digital"])
    assert unknown_survey.exit_code == 2 and "no survey wave 'nope'" in unknown_survey.output
    unknown_cluster = runner.invoke(args=[*base, "--survey", "wave-2021", "--cluster", "nope"])
    assert unknown_cluster.exit_code == 2 and "no cluster 'nope'" in unknown_cluster.output
    bad_email = runner.invoke(
        args=[*base, "--survey", "wave-2021", "--cluster", "basque-digital", "--email", "not-an-address"]
    )
    assert bad_email.exit_code == 2 and "--email" in bad_email.output
    assert _count(Invitation) == 0


def test_surveys_list_prints_one_wave_per_line_slug_first(runner):
    runner.invoke(args=["demo", "--responses", "12"])
    lines = runner.invoke(args=["surveys", "list"]).stdout.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == ["demo-2019", "demo-2021"]
    assert "\topen\t" in lines[1] and "12 responses" in lines[1]


def test_surveys_open_and_close_refuse_a_wrong_state(runner, open_wave):
    refused = runner.invoke(args=["surveys", "open", "wave-2021"])
    assert refused.exit_code == 1 and "only a draft wave can be opened" in refused.output
    closed = runner.invoke(args=["surveys", "close", "wave-2021"])
    assert closed.exit_code == 0 and closed.stdout.strip() == "wave-2021\tclosed"
