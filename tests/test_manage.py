"""Cluster managers' pages: members, contacts, CSV import, invitation links, response status."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

import pytest
from sqlalchemy import func, select

from survey import clock
from survey.extensions import db
from survey.models import Contact, Invitation, Organisation
from survey.operations.setup import add_contact, create_wave, invite_organisation, load_questionnaire
from tests.accounts import PASSWORD
from tests.conftest import complete_answers, csrf_token


def _post(client, url: str, data: dict | None = None, page: str | None = None, **kwargs):
    html = client.get(page or url).get_data(as_text=True)
    return client.post(url, data={**(data or {}), "csrf_token": csrf_token(html)}, **kwargs)


def _organisations() -> int:
    return db.session.scalar(select(func.count()).select_from(Organisation))


def _member(name: str) -> Organisation:
    return db.session.scalars(select(Organisation).filter_by(name=name)).one()


def _csv_rows(response) -> list[dict[str, str]]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")  # so that spreadsheet programs read it as UTF-8
    return list(csv.DictReader(io.StringIO(text[1:])))


def _submit(client, token: str, invited_wave) -> None:
    url = f"/r/{token}"
    page = client.get(url).get_data(as_text=True)
    answers = complete_answers(invited_wave.questionnaire.parsed)
    assert client.post(url, data={**answers, "action": "submit", "csrf_token": csrf_token(page)}).status_code == 303


# Scope


def test_manager_sees_only_their_clusters(manager_client, cluster_a, cluster_b):
    index = manager_client.get("/manage/").get_data(as_text=True)
    assert cluster_a.name in index and cluster_b.name not in index
    assert manager_client.get("/manage/alpha/").status_code == 200
    assert manager_client.get("/manage/beta/").status_code == 404
    assert manager_client.get("/manage/no-such-cluster/").status_code == 404


def test_odd_addresses_are_404s(manager_client, admin_client, cluster_a, open_wave):
    for url in (
        "/manage/alpha/members/99999999999999999999999",
        "/manage/%00/",
        "/manage/alpha/waves/%00",
        "/manage/alpha/members/0",
        "/manage/alpha/members/-1",
    ):
        assert manager_client.get(url).status_code == 404, url
    for url in ("/admin/users/99999999999999999999999", "/admin/clusters/2147483648"):
        assert admin_client.get(url).status_code == 404, url


def test_policymakers_do_not_see_members(policymaker_client, cluster_a):
    assert policymaker_client.get("/manage/alpha/").status_code == 403


def test_a_member_of_another_cluster_is_not_reachable_through_mine(manager_client, make_invited, cluster_a, cluster_b):
    other = make_invited([cluster_b], name="Beta Member")
    assert manager_client.get(f"/manage/alpha/members/{other.organisation.id}").status_code == 404
    response = _post(
        manager_client,
        f"/manage/alpha/members/{other.organisation.id}/contacts",
        {"email": "spy@example.org"},
        page="/manage/alpha/members/new",
    )
    assert response.status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 0


# Members and contacts


def test_add_a_member_with_a_contact(manager_client, cluster_a):
    response = _post(
        manager_client,
        "/manage/alpha/members/new",
        {
            "name": "Helix Labs",
            "country": "ES",
            "org_type": "sme",
            "size_class": "small",
            "contact_name": "Ana García",
            "contact_email": "ana@helix.example",
        },
    )
    assert response.status_code == 303
    member = _member("Helix Labs")
    assert [c.slug for c in member.clusters] == ["alpha"] and member.ecosystem == "digital"
    assert [(c.name, c.email) for c in member.contacts] == [("Ana García", "ana@helix.example")]
    page = manager_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Helix Labs is now a member of Alpha Cluster." in page and "ana@helix.example" in page


def test_bad_member_details_come_back_with_messages(manager_client, cluster_a):
    response = _post(
        manager_client,
        "/manage/alpha/members/new",
        {"name": "  ", "country": "XX", "org_type": "pirate", "contact_email": "not an address"},
    )
    assert response.status_code == 422
    html = unescape(response.get_data(as_text=True))
    assert "Enter the organisation's name." in html
    for field in ("name", "country", "org_type", "contact_email"):
        assert f'id="{field}-error"' in html and f'href="#{field}"' in html
    assert _organisations() == 0


def test_a_name_registered_with_another_cluster_cannot_be_claimed(
    manager_client, admin_client, make_invited, cluster_a, cluster_b
):
    make_invited([cluster_b], name="Shared Works")
    response = _post(manager_client, "/manage/alpha/members/new", {"name": "Shared Works", "country": "ES"})
    assert response.status_code == 422
    assert "already registered with another cluster" in response.get_data(as_text=True)
    assert [c.slug for c in _member("Shared Works").clusters] == ["beta"]
    # The admin, who sees every cluster, can make it a member of both.
    joined = _post(admin_client, "/manage/alpha/members/new", {"name": "Shared Works", "country": "ES"})
    assert joined.status_code == 303
    db.session.expire_all()
    assert [c.slug for c in _member("Shared Works").clusters] == ["alpha", "beta"]


def test_edit_a_member(manager_client, make_invited, cluster_a):
    invited = make_invited([cluster_a], name="Old Name")
    make_invited([cluster_a], name="Taken Name")
    url = f"/manage/alpha/members/{invited.organisation.id}/edit"
    taken = _post(manager_client, url, {"name": "Taken Name", "country": "ES"})
    assert taken.status_code == 422 and "Another organisation is already called Taken Name." in taken.get_data(
        as_text=True
    )
    assert _post(manager_client, url, {"name": "New Name", "country": "PT", "size_class": "medium"}).status_code == 303
    db.session.expire_all()
    assert invited.organisation.name == "New Name" and invited.organisation.size_class == "medium"


def test_contacts_are_added_and_erased(manager_client, make_invited, cluster_a):
    invited = make_invited([cluster_a])
    page = f"/manage/alpha/members/{invited.organisation.id}"
    bad = _post(manager_client, f"{page}/contacts", {"email": "nope"}, page=page)
    assert bad.status_code == 422 and 'id="email-error"' in bad.get_data(as_text=True)
    assert (
        _post(manager_client, f"{page}/contacts", {"name": "Ola", "email": "ola@example.org"}, page=page).status_code
        == 303
    )
    contact = db.session.scalars(select(Contact)).one()
    assert _post(manager_client, f"{page}/contacts/{contact.id}/delete", page=page).status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 0
    assert "ola@example.org" not in manager_client.get(page).get_data(as_text=True)


# CSV import


def _import(client, content: bytes):
    return _post(
        client,
        "/manage/alpha/members/import",
        {"file": (io.BytesIO(content), "members.csv")},
        content_type="multipart/form-data",
    )


def test_import_members_from_a_spreadsheet_csv(manager_client, cluster_a, make_invited):
    make_invited([cluster_a], name="Existing Member", size="micro")
    content = (
        "\ufeffName;Country;org_type;size_class;contact_name;contact_email\n"
        "Helix Labs;es;sme;small;Ana García;ana@helix.example\n"
        "Helix Labs;ES;;;Luis;luis@helix.example\n"
        "Existing Member;ES;;large;;\n"
        "\n"
        "Nova Works;PT;;;;\n"
    ).encode()
    response = _import(manager_client, content)
    assert response.status_code == 303
    assert "2 new members, 1 updated, 2 new contacts" in manager_client.get("/manage/alpha/").get_data(as_text=True)
    helix = _member("Helix Labs")
    assert helix.country == "ES" and helix.size_class == "small"
    assert sorted(c.email for c in helix.contacts) == ["ana@helix.example", "luis@helix.example"]
    assert _member("Existing Member").size_class == "large"
    assert [c.slug for c in _member("Nova Works").clusters] == ["alpha"]


def test_import_reports_every_bad_row_and_imports_nothing(manager_client, cluster_a, cluster_b, make_invited):
    make_invited([cluster_b], name="Beta Member")
    content = (
        b"name,country,org_type,size_class,contact_name,contact_email\n"
        b"Good One,ES,sme,small,,\n"
        b",ES,,,,\n"
        b"Bad Country,Spain,,,,\n"
        b"Bad Type,ES,pirate,,,\n"
        b"Bad Mail,ES,,,,not-an-address\n"
        b"Beta Member,BE,,,,\n"
        b"Too,ES,,,,,extra\n"
    )
    response = _import(manager_client, content)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Nothing was imported" in html
    for line, text in (
        (3, "the name is missing"),
        (4, "“Spain” is not a two-letter country code"),
        (5, "“pirate” is not an organisation type"),
        (6, "“not-an-address” is not an e-mail address"),
        (7, "already registered with another cluster"),
        (8, "more cells than there are columns"),
    ):
        assert re.search(rf"Row {line}: [^<]*{re.escape(text)}", html), (line, text)
    assert "Row 2:" not in html
    assert _organisations() == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty"),
        (b"name;pays\nA;ES\n", "The first row must name the columns"),
        (b"name,country\n", "no rows below the column names"),
        ("name,country\nCaf\xe9,ES\n".encode("latin-1"), "not UTF-8 text"),
    ],
)
def test_import_refuses_unreadable_files(manager_client, cluster_a, content, message):
    response = _import(manager_client, content)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _organisations() == 0


def test_import_needs_a_file(manager_client, cluster_a):
    response = _post(manager_client, "/manage/alpha/members/import")
    assert response.status_code == 422 and "Choose a CSV file to import." in response.get_data(as_text=True)


# Invitation links and response status


@pytest.fixture
def members(make_invited, cluster_a, open_wave):
    """Three members of cluster A without invitations, one with a contact person."""
    created = []
    for name in ("Able", "Baker", '=HYPERLINK("http://evil.example")'):
        organisation = Organisation(
            name=name, country="ES", org_type="sme", size_class="small", ecosystem="digital", clusters=[cluster_a]
        )
        db.session.add(organisation)
        created.append(organisation)
    db.session.flush()
    add_contact(created[0], "able@example.org", "Alba Able")
    db.session.commit()
    return created


def test_links_for_a_mail_merge_are_made_once_and_downloaded(manager_client, members, open_wave):
    wave_page = f"/manage/alpha/waves/{open_wave.slug}"
    response = _post(manager_client, f"{wave_page}/links", {"members": "missing"}, page=wave_page)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and f"invitation-links-alpha-{open_wave.slug}-" in disposition
    rows = _csv_rows(response)
    assert {r["organisation"] for r in rows} == {"Able", "Baker", '\'=HYPERLINK("http://evil.example")'}
    able = next(r for r in rows if r["organisation"] == "Able")
    assert (able["contact_name"], able["contact_email"]) == ("Alba Able", "able@example.org")
    for row in rows:
        path = row["link"].removeprefix("http://survey.test")
        assert manager_client.application.test_client().get(path).status_code == 200

    # Asking again for members without a link makes none.
    again = _post(manager_client, f"{wave_page}/links", {"members": "missing"}, page=wave_page)
    assert again.status_code == 303
    assert "Every member already has a working link" in manager_client.get(wave_page).get_data(as_text=True)

    # The file for everybody gives the same links again: a link already sent keeps working.
    everyone = _csv_rows(_post(manager_client, f"{wave_page}/links", {"members": "all"}, page=wave_page))
    assert sorted(r["link"] for r in everyone) == sorted(r["link"] for r in rows)
    old = able["link"].removeprefix("http://survey.test")
    assert manager_client.application.test_client().get(old).status_code == 200


def test_response_status_and_rate(manager_client, members, open_wave):
    wave_page = f"/manage/alpha/waves/{open_wave.slug}"
    rows = _csv_rows(_post(manager_client, f"{wave_page}/links", {"members": "missing"}, page=wave_page))
    links = {r["organisation"]: r["link"].removeprefix("http://survey.test") for r in rows}
    respondent = manager_client.application.test_client()
    _submit(respondent, links["Able"].removeprefix("/r/"), open_wave)
    page = respondent.get(links["Baker"]).get_data(as_text=True)
    respondent.post(links["Baker"], data={"cloud": "using", "action": "save", "csrf_token": csrf_token(page)})

    html = manager_client.get(wave_page).get_data(as_text=True)
    assert "1 of 3 invited members have submitted their answers (33%)" in html
    assert re.search(r"Able</a>.*?Submitted", html, re.S)
    assert re.search(r"Baker</a>.*?Answers saved, not submitted", html, re.S)

    baker = _member("Baker")
    assert _post(manager_client, f"{wave_page}/members/{baker.id}/revoke", page=wave_page).status_code == 303
    assert respondent.get(links["Baker"]).status_code == 410
    html = manager_client.get(wave_page).get_data(as_text=True)
    assert "Link revoked" in html and "1 of 2 invited members" in html


def test_a_new_link_for_one_member_keeps_the_saved_answers(manager_client, members, open_wave):
    able = members[0]
    _, token = invite_organisation(open_wave, able, clock.now())
    db.session.commit()
    respondent = manager_client.application.test_client()
    page = respondent.get(f"/r/{token}").get_data(as_text=True)
    respondent.post(f"/r/{token}", data={"comments": "half done", "action": "save", "csrf_token": csrf_token(page)})

    wave_page = f"/manage/alpha/waves/{open_wave.slug}"
    shown = _post(manager_client, f"{wave_page}/members/{able.id}/link", page=wave_page)
    assert shown.status_code == 200
    assert re.search(r'id="link"[^>]*value="([^"]+)"', shown.get_data(as_text=True)).group(1).endswith(token)
    response = _post(manager_client, f"{wave_page}/members/{able.id}/link", {"new": "1"}, page=wave_page)
    assert response.status_code == 200 and "now says it was replaced" in response.get_data(as_text=True)
    link = re.search(r'id="link"[^>]*value="([^"]+)"', response.get_data(as_text=True)).group(1)
    assert respondent.get(f"/r/{token}").status_code == 410
    assert "half done" in respondent.get(link.removeprefix("http://survey.test")).get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == 1


def test_no_links_for_a_closed_wave(manager_client, members, open_wave):
    open_wave.close(clock.now())
    db.session.commit()
    wave_page = f"/manage/alpha/waves/{open_wave.slug}"
    assert "This survey is closed" in manager_client.get(wave_page).get_data(as_text=True)
    response = _post(manager_client, f"{wave_page}/links", {"members": "all"}, page="/manage/alpha/members/new")
    assert response.status_code == 409
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == 0


def test_sending_needs_a_mail_server(manager_client, members, open_wave):
    wave_page = f"/manage/alpha/waves/{open_wave.slug}"
    assert "E-mail is not set up on this platform" in manager_client.get(wave_page).get_data(as_text=True)
    response = _post(manager_client, f"{wave_page}/send", {"kind": "invitation"}, page=wave_page)
    assert response.status_code == 409


def test_draft_waves_are_not_shown_to_managers(manager_client, cluster_a):
    create_wave("next-wave", "Next wave", load_questionnaire())
    db.session.commit()
    assert manager_client.get("/manage/alpha/waves/next-wave").status_code == 404


def test_contact_emails_never_reach_the_logs(manager_client, members, open_wave, caplog):
    caplog.set_level("DEBUG")
    wave_page = f"/manage/alpha/waves/{open_wave.slug}"
    _post(manager_client, f"{wave_page}/links", {"members": "missing"}, page=wave_page)
    _post(
        manager_client,
        "/manage/alpha/members/new",
        {"name": "Logged", "country": "ES", "contact_email": "secret-person@example.org"},
    )
    assert "able@example.org" not in caplog.text and "secret-person@example.org" not in caplog.text
    assert "/r/" not in caplog.text
    assert PASSWORD not in caplog.text


def _answer(link: str, client, wave, **profile):
    page = client.get(link).get_data(as_text=True)
    data = {
        **complete_answers(wave.questionnaire.parsed, **profile),
        "action": "submit",
        "csrf_token": csrf_token(page),
    }
    assert client.post(link, data=data).status_code == 303


def test_the_member_record_learns_from_the_answers_and_the_next_wave_offers_them(manager_client, members, open_wave):
    able = members[0]
    _, token = invite_organisation(open_wave, able, clock.now())
    db.session.commit()
    respondent = manager_client.application.test_client()
    _answer(f"/r/{token}", respondent, open_wave, size_class="medium", region="ES21", ecosystem="health")
    db.session.expire_all()
    assert (able.size_class, able.region, able.ecosystem, able.org_type) == ("medium", "ES21", "health", "sme")
    page = unescape(manager_client.get(f"/manage/alpha/members/{able.id}").get_data(as_text=True))
    assert "Changed by the organisation's answers" in page
    assert "Survey 2021: Persons employed 10 to 49 → 50 to 249" in page
    assert "Survey 2021: NUTS 2 region not known → ES21" in page
    assert "Type of organisation" not in page.split("Changed by the organisation's answers")[1].split("</ul>")[0]

    # The next wave offers the organisation the profile it gave, to confirm or change.
    open_wave.close(clock.now())
    later = create_wave("wave-2023", "Survey 2023", load_questionnaire())
    later.open(clock.now())
    _, next_token = invite_organisation(later, able, clock.now())
    db.session.commit()
    form = manager_client.application.test_client().get(f"/r/{next_token}").get_data(as_text=True)
    assert re.search(r'checked id="size_class-\d" name="size_class" type="radio" value="medium"', form)
    assert 'value="ES21"' in form


def test_the_wave_page_names_members_who_answered_last_time_but_not_yet_this_time(manager_client, members, open_wave):
    respondent = manager_client.application.test_client()
    for member in members[:2]:
        _, token = invite_organisation(open_wave, member, clock.now())
        db.session.commit()
        _answer(f"/r/{token}", respondent, open_wave, size_class="small")
    open_wave.close(clock.now())
    later = create_wave("wave-2023", "Survey 2023", load_questionnaire())
    later.open(clock.now())
    _, token = invite_organisation(later, members[0], clock.now())
    db.session.commit()
    _answer(f"/r/{token}", respondent, later, size_class="small")
    page = unescape(manager_client.get("/manage/alpha/waves/wave-2023").get_data(as_text=True))
    assert "1 member answered Survey 2021 but has not answered this survey yet:\n  Baker." in page


def test_a_manager_previews_the_questionnaire_and_nothing_is_stored(manager_client, members, open_wave):
    wave_page = f"/manage/alpha/waves/{open_wave.slug}"
    assert f'href="{wave_page}/preview"' in manager_client.get(wave_page).get_data(as_text=True)
    page = unescape(manager_client.get(f"{wave_page}/preview").get_data(as_text=True))
    assert "Nothing you enter here is stored or sent." in page
    assert open_wave.questionnaire.parsed.title in page and "invited by Alpha Cluster" in page
    assert 'method="post"' not in page.split('class="questionnaire"')[0][-40:] and 'name="action"' not in page
    assert manager_client.post(f"{wave_page}/preview").status_code == 405


def test_members_are_found_by_name_type_and_size(manager_client, members):
    members[1].size_class, members[1].org_type = "large", "university"
    db.session.commit()
    everyone = unescape(manager_client.get("/manage/alpha/").get_data(as_text=True))
    assert "3 members" in everyone
    found = unescape(manager_client.get("/manage/alpha/?q=bak").get_data(as_text=True))
    assert "1 of 3 members" in found and ">Baker</a>" in found and ">Able</a>" not in found
    by_size = unescape(manager_client.get("/manage/alpha/?size=small&type=sme").get_data(as_text=True))
    assert ">Able</a>" in by_size and ">Baker</a>" not in by_size
    nothing = unescape(manager_client.get("/manage/alpha/?q=100%25_").get_data(as_text=True))  # LIKE's own characters
    assert "No member matches" in nothing
    assert manager_client.get("/manage/alpha/?size=enormous").status_code == 200  # a value not offered is ignored


def test_the_reminder_mail_merge_lists_those_who_have_not_answered_with_their_links(manager_client, members, open_wave):
    wave_page = f"/manage/alpha/waves/{open_wave.slug}"
    first = {
        r["organisation"]: r["link"]
        for r in _csv_rows(_post(manager_client, f"{wave_page}/links", {"members": "all"}, page=wave_page))
    }
    respondent = manager_client.application.test_client()
    _answer(first["Able"].removeprefix("http://survey.test"), respondent, open_wave, size_class="small")
    waiting = _csv_rows(_post(manager_client, f"{wave_page}/links", {"members": "waiting"}, page=wave_page))
    assert {r["organisation"] for r in waiting} == {"Baker", '\'=HYPERLINK("http://evil.example")'}
    assert all(r["link"] == first[r["organisation"]] for r in waiting)  # the links they already have


def test_replacing_or_revoking_a_link_asks_first_and_says_what_it_does(manager_client, make_invited, cluster_a):
    """Retiring a link is an explicit act: the wave page offers a page that says what it does, with the button."""
    from html import unescape

    invited = make_invited([cluster_a])
    wave_page = manager_client.get(f"/manage/{invited.cluster.slug}/waves/{invited.wave.slug}").get_data(as_text=True)
    base = f"/manage/{invited.cluster.slug}/waves/{invited.wave.slug}/members/{invited.organisation.id}"
    for action, says, button in (
        ("replace", "is told it was replaced and whom to ask", f'action="{base}/link"'),
        ("revoke", "is told it was withdrawn and whom to ask", f'action="{base}/revoke"'),
    ):
        assert f'href="{base}/{action}"' in wave_page
        page = manager_client.get(f"{base}/{action}")
        text = unescape(page.get_data(as_text=True))
        assert page.status_code == 200 and says in text and button in text
        assert "It has not submitted answers" in text
    assert manager_client.application.test_client().get(invited.url).status_code == 200  # asking retired nothing
