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

    assert statuses == [303] * 20
    assert db.session.scalar(select(func.count()).select_from(Response)) == 1
    # The tallies count the one response once, with whichever answer came last.
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
