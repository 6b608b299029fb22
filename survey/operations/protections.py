"""Storing a closed wave's protected partition when it closes, so that no report has to read every response."""

from __future__ import annotations

import logging
from datetime import datetime

from flask import current_app

from reports.aggregate import make_protection, protection_fingerprint
from reports.protection import encode
from survey import clock
from survey.extensions import db
from survey.models import Wave, WaveProtection

log = logging.getLogger(__name__)


def store_protection(wave: Wave, now: datetime) -> bool:
    """Make and store the partition of a closed wave (after its close has committed: it reads the responses
    as committed); the caller commits. False, storing nothing, if the wave is not closed."""
    k = int(current_app.config["MIN_CELL_SIZE"])
    conn = db.session.connection()
    fingerprint = protection_fingerprint(conn, wave.id, k)
    if fingerprint is None:
        return False
    data = encode(make_protection(conn, wave.id, k))
    row = db.session.get(WaveProtection, wave.id) or WaveProtection(wave_id=wave.id)
    row.fingerprint, row.data, row.made_at = fingerprint, data, now
    db.session.add(row)
    return True


def publish_results(wave: Wave) -> None:
    """After a close has committed: store the wave's partition, so that its first report is as fast as any.
    A failure here loses nothing (reports make the partition themselves when none is stored): it is logged."""
    try:
        store_protection(wave, clock.now())
        db.session.commit()
    except Exception:  # noqa: BLE001 - the close has committed; reports can do without the stored partition
        db.session.rollback()
        log.exception("could not store the protected partition of wave %s", wave.slug)
