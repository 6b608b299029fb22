"""A closed wave's protected partition is made once, when it closes, and stored: reports read that row instead
of every response (survey/operations/protections.py, reports.aggregate.wave_protection)."""

from __future__ import annotations

import pytest

import reports.aggregate
from reports.aggregate import make_protection, wave_protection
from reports.protection import decode, encode
from survey.extensions import db
from survey.models import WaveProtection
from tests.reports_data import populate


def _refuse_to_read_responses(monkeypatch, wave_id: int):
    read_atoms = reports.aggregate.read_atoms

    def refuse(conn, wave, *args):
        assert wave != wave_id, "read every response again instead of the stored partition"
        return read_atoms(conn, wave, *args)  # the earlier wave, closed by the test data with none stored

    monkeypatch.setattr(reports.aggregate, "read_atoms", refuse)


def test_closing_a_wave_stores_its_partition_and_reports_read_it(
    app, make_cluster, make_invited, open_wave, quick_client_for, make_user, monkeypatch
):
    populate(make_cluster, make_invited, open_wave, close=False)
    admin = quick_client_for(make_user("admin@example.org", "admin"))
    app.config["WTF_CSRF_ENABLED"] = False  # CSRF has tests of its own
    assert admin.post(f"/admin/waves/{open_wave.id}/close").status_code == 303
    stored = db.session.get(WaveProtection, open_wave.id)
    assert stored is not None
    k = app.config["MIN_CELL_SIZE"]
    conn = db.session.connection()
    made = make_protection(conn, open_wave.id, k)
    assert decode(stored.data) == made  # the same cells, numbers and answers, as made from the responses
    assert made.published and made.answers

    reports.aggregate._CLOSED.clear()  # as in a server process started after the close
    _refuse_to_read_responses(monkeypatch, open_wave.id)
    assert wave_protection(conn, open_wave.id, k) == made
    policymaker = quick_client_for(make_user("policy@example.org", "policymaker"))
    assert policymaker.get(f"/reports/{open_wave.slug}").status_code == 200
    assert policymaker.get(f"/api/v1/surveys/{open_wave.slug}/adoption?by=cluster").status_code == 200


def test_a_partition_made_for_another_k_is_not_used(app, make_cluster, make_invited, open_wave, runner):
    populate(make_cluster, make_invited, open_wave, close=False)
    result = runner.invoke(args=["surveys", "close", open_wave.slug])
    assert result.exit_code == 0, result.output
    assert db.session.get(WaveProtection, open_wave.id) is not None  # the command stores it too
    reports.aggregate._CLOSED.clear()
    conn = db.session.connection()
    k = app.config["MIN_CELL_SIZE"]
    bigger = wave_protection(conn, open_wave.id, k + 5)
    assert bigger == make_protection(conn, open_wave.id, k + 5) != wave_protection(conn, open_wave.id, k)
    assert bigger.k == k + 5


@pytest.mark.parametrize("k", [1, 3])
def test_a_partition_survives_storing(app, make_cluster, make_invited, open_wave, k):
    populate(make_cluster, make_invited, open_wave)
    made = make_protection(db.session.connection(), open_wave.id, k)
    assert decode(encode(made)) == made
