"""How long answering takes, measured from respondents: the questionnaire and the e-mails say "about N minutes"
from the median time of an earlier wave's respondents who asked the same questionnaire, once there are enough
of them, and from rules of thumb per question (`Questionnaire.minutes`) until then.

A response's time runs from the first showing of the questionnaire through its link to the first submission.
Longer than `MOST_SECONDS` is several sittings, or a page left open: not a measure of answering, so not kept.
Only a wave's median is ever read, and only by the respondent pages and mail.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from survey.extensions import db
from survey.models import Invitation, QuestionnaireVersion, Response, Wave, WaveState

MOST_SECONDS = 2 * 3600
#: Fewer measured respondents than this, and the rule of thumb is the better estimate.
MIN_SAMPLE = 30


@dataclass(frozen=True)
class Estimate:
    minutes: int
    #: The wave measured, and from how many respondents; None for the rule of thumb.
    measured_in: str | None = None
    sample: int = 0


def note_opened(invitation: Invitation, now: datetime) -> bool:
    """Start the clock the first time the questionnaire is shown through the link; True if it was started."""
    if invitation.opened_at is not None:
        return False
    invitation.opened_at = now
    return True


def seconds_taken(invitation: Invitation, now: datetime) -> int | None:
    if invitation.opened_at is None:
        return None
    # Naive UTC throughout (`survey.clock`), whatever the database hands back.
    seconds = int((now.replace(tzinfo=None) - invitation.opened_at.replace(tzinfo=None)).total_seconds())
    return seconds if 0 < seconds <= MOST_SECONDS else None


def measure_wave(wave: Wave) -> None:
    """At the close: the median answering time of the wave's respondents (one read of a column)."""
    times = list(
        db.session.scalars(
            select(Response.answering_seconds).where(
                Response.wave_id == wave.id, Response.answering_seconds.is_not(None)
            )
        )
    )
    wave.answering_sample = len(times)
    wave.answering_seconds = int(statistics.median(times)) if times else None
    forget_estimates()


#: Estimates per database and questionnaire, for a minute: they change only when a wave closes, and the
#: questionnaire page would otherwise spend a tenth of its time asking.
_KEPT: dict[tuple[str, str, int], tuple[float, Estimate]] = {}
KEEP_SECONDS = 60.0


def estimate_for(wave: Wave) -> Estimate:
    """What to tell this wave's respondents: the latest closed wave of the same questionnaire with enough
    measured respondents, or the rule of thumb."""
    questionnaire = wave.questionnaire
    key = (str(db.engine.url), questionnaire.code, questionnaire.version)
    kept = _KEPT.get(key)
    if kept is not None and time.monotonic() - kept[0] < KEEP_SECONDS:
        return kept[1]
    estimate = _measured_estimate(questionnaire)
    _KEPT[key] = (time.monotonic(), estimate)
    return estimate


def forget_estimates() -> None:
    """After a close (the next estimate may come from it)."""
    _KEPT.clear()


def _measured_estimate(questionnaire: QuestionnaireVersion) -> Estimate:
    measured = db.session.execute(
        select(Wave.title, Wave.answering_seconds, Wave.answering_sample)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == Wave.questionnaire_id)
        .where(
            QuestionnaireVersion.code == questionnaire.code,
            Wave.state == WaveState.CLOSED,
            Wave.answering_sample >= MIN_SAMPLE,
        )
        .order_by(Wave.closed_at.desc())
        .limit(1)
    ).one_or_none()
    if measured is None or measured.answering_seconds is None:
        return Estimate(questionnaire.parsed.minutes)
    return Estimate(max(1, -(-measured.answering_seconds // 60)), measured.title, measured.answering_sample)
