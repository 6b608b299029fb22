"""One response per organisation and wave, however many times and however fast people submit."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from survey.extensions import db
from survey.models import Response, Tally
from survey.models.tallies import RESPONSES_ITEM
from tests.conftest import complete_answers, csrf_token

# The dialect matters here: run on PostgreSQL too (tests/conftest.py).
pytestmark = pytest.mark.both_databases


def test_twenty_parallel_submissions_through_one_link_leave_one_response(app, invited):
    questionnaire = invited.wave.questionnaire.parsed
    answers = ["using", "planning", "not_planned", "dont_know"]
    clients = [app.test_client() for _ in range(20)]
    tokens = [csrf_token(c.get(invited.url).get_data(as_text=True)) for c in clients]
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []

    def submit(index: int) -> None:
        data = complete_answers(questionnaire, cloud=answers[index % 4])
        barrier.wait()
        response = clients[index].post(invited.url, data={**data, "action": "submit", "csrf_token": tokens[index]})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Twenty browsers: the first to submit holds the answers' key; the others are told they were received.
    assert sorted(statuses) == [303] + [409] * 19
    assert db.session.scalar(select(func.count()).select_from(Response)) == 1
    # The tallies count the one response once.
    total = select(Tally.answer, Tally.n).where(Tally.grain == "total", Tally.item == "cloud", Tally.n != 0)
    assert [n for _, n in db.session.execute(total)] == [1]
    responses = select(func.sum(Tally.n)).where(Tally.grain == "total", Tally.item == RESPONSES_ITEM)
    assert db.session.scalar(responses) == 1


def test_the_database_refuses_a_second_response_row(app, invited):
    def row() -> Response:
        now = datetime(2021, 5, 1)
        return Response(
            wave_id=invited.wave.id,
            organisation_id=invited.organisation.id,
            country="ES",
            org_type="sme",
            size_class="small",
            ecosystem="digital",
            answers={},
            submitted_at=now,
            updated_at=now,
        )

    db.session.add(row())
    db.session.commit()
    db.session.add(row())
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_a_close_and_a_burst_of_submissions_serialise_none_is_stored_after_the_close(app, make_invited, open_wave):
    """80 organisations submit at once while an admin closes the wave: each submission is either stored before
    the close committed (303) or refused (410); nothing changes once the close has committed."""
    from survey import clock
    from survey.operations.platform import close_wave

    questionnaire = open_wave.questionnaire.parsed
    invited = [make_invited() for _ in range(80)]
    clients = [app.test_client() for _ in invited]
    tokens = [csrf_token(c.get(i.url).get_data(as_text=True)) for c, i in zip(clients, invited, strict=True)]
    wave_id = open_wave.id
    barrier = threading.Barrier(len(clients) + 1)
    statuses: list[int] = []
    after_close: list[int] = []

    def submit(index: int) -> None:
        data = {**complete_answers(questionnaire), "action": "submit", "csrf_token": tokens[index]}
        barrier.wait()
        statuses.append(clients[index].post(invited[index].url, data=data).status_code)

    def close() -> None:
        with app.app_context():
            barrier.wait()
            close_wave(db.session.get(type(open_wave), wave_id), clock.now())
            db.session.commit()
            after_close.append(db.session.scalar(select(func.count()).select_from(Response)))
            db.session.remove()

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(len(clients))]
    threads.append(threading.Thread(target=close))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert set(statuses) <= {303, 410} and len(statuses) == 80
    stored = db.session.scalar(select(func.count()).select_from(Response))
    assert stored == statuses.count(303) == after_close[0]
    responses = select(func.sum(Tally.n)).where(Tally.grain == "total", Tally.item == RESPONSES_ITEM)
    assert (db.session.scalar(responses) or 0) == stored
