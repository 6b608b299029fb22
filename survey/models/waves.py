"""Survey waves and the questionnaire version each one uses."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Enum, ForeignKey, String, UniqueConstraint, func, select
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey import questionnaire as qdoc
from survey.extensions import JSONDocument, db


class WaveStateError(Exception):
    """A wave was asked to move to a state it cannot reach from where it is."""


class WaveState(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        """The state as people read it, in their language (messages name it)."""
        from flask_babel import gettext

        return {"draft": gettext("a draft"), "open": gettext("open"), "closed": gettext("closed")}[self.value]


class QuestionnaireVersion(db.Model):
    """One version of a questionnaire document, as a wave was (or will be) asked it."""

    __tablename__ = "questionnaire"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64))
    version: Mapped[int]
    #: The whole JSON document; item codes inside it are stable across versions. Deferred: pages use `parsed`,
    #: which reads it once per process, so loading a wave does not fetch and decode it every time.
    document: Mapped[dict[str, Any]] = mapped_column(JSONDocument, deferred=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    @property
    def parsed(self) -> qdoc.Questionnaire:
        # Documents never change once stored (a change is a new version), so parse each one once per process.
        key = (self.code, self.version)
        if key not in _PARSED:
            _PARSED[key] = qdoc.parse(self.document)
        return _PARSED[key]


_PARSED: dict[tuple[str, int], qdoc.Questionnaire] = {}


class Wave(db.Model):
    """One round of the survey (for example 2019 and 2021), compared with the others by item code."""

    __tablename__ = "wave"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaire.id"))
    #: First and last day (UTC) on which answers are accepted; either may be left open.
    opens_on: Mapped[date | None] = mapped_column(Date)
    closes_on: Mapped[date | None] = mapped_column(Date)
    state: Mapped[WaveState] = mapped_column(
        Enum(WaveState, native_enum=False, length=10, values_callable=lambda e: [m.value for m in e]),
        default=WaveState.DRAFT,
    )
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    #: How many times the wave was reopened after closing. Each reopening collects late answers as a set of its
    #: own (`Response.reopening`), protected on its own, so that the figures published at each close never
    #: tell the late answers apart by comparison (`reports.protection.protect_rounds`).
    reopenings: Mapped[int] = mapped_column(default=0, server_default="0")
    #: At the close: the median time its respondents took to answer in one sitting, and how many that was from
    #: (the next waves' questionnaires say "about … minutes" from it: `survey.operations.answering_time`).
    answering_seconds: Mapped[int | None]
    answering_sample: Mapped[int | None]

    questionnaire: Mapped[QuestionnaireVersion] = relationship()

    def open(self, now: datetime) -> None:
        if self.state is not WaveState.DRAFT:
            raise WaveStateError(f"wave {self.slug} is {self.state}; only a draft wave can be opened")
        self.state = WaveState.OPEN
        self.opened_at = now

    def close(self, now: datetime) -> None:
        if self.state is not WaveState.OPEN:
            raise WaveStateError(f"wave {self.slug} is {self.state}; only an open wave can be closed")
        self.state = WaveState.CLOSED
        self.closed_at = now

    def reopen(self, now: datetime, closes_on: date) -> None:
        """Take late answers again until `closes_on`, from organisations that have not answered: the answers
        counted at the close stay as they were, and the results are withdrawn until the wave closes again."""
        if self.state is not WaveState.CLOSED:
            raise WaveStateError(f"wave {self.slug} is {self.state}; only a closed wave can be reopened")
        if closes_on < now.date():
            raise WaveStateError(f"wave {self.slug} cannot reopen until {closes_on}, a day that has passed")
        self.state = WaveState.OPEN
        self.closes_on = closes_on
        self.closed_at = None
        self.reopenings += 1

    def accepts_answers(self, today: date) -> bool:
        """True while respondents may submit or change answers."""
        return self.why_no_answers(today) is None

    def why_no_answers(self, today: date) -> str | None:
        """Why respondents cannot answer today: "not_open" (a draft), "not_yet" (its first day is to come),
        "closed" (closed, or past its last day); None while they can."""
        if self.state is WaveState.DRAFT:
            return "not_open"
        if self.state is WaveState.CLOSED or (self.closes_on is not None and today > self.closes_on):
            return "closed"
        if self.opens_on is not None and today < self.opens_on:
            return "not_yet"
        return None

    def phase(self, today: date) -> str:
        """Where the wave stands for people: "draft", "scheduled" (open, its first day to come), "open", "ended"
        (open, past its last day: answers stopped, results wait for the close) or "closed"."""
        if self.state is WaveState.OPEN:
            reason = self.why_no_answers(today)
            return {"not_yet": "scheduled", "closed": "ended"}.get(reason or "", "open")
        return self.state.value

    def closed_on(self) -> date | None:
        """The day answers stopped: the close, or the last day if that came first."""
        if self.closed_at is not None and (self.closes_on is None or self.closed_at.date() < self.closes_on):
            return self.closed_at.date()
        return self.closes_on

    @hybrid_property
    def visible_to_readers(self) -> bool:
        """The one rule for every page, download and API call outside the admins' wave pages: a draft wave is
        never shown, listed or offered for comparison. In a query: `select(Wave).where(Wave.visible_to_readers)`."""
        return self.state != WaveState.DRAFT

    @hybrid_property
    def results_published(self) -> bool:
        """Release control: a wave's results are shown once it has closed, when its answers no longer change, so
        that comparing two moments never shows what one organisation answered (or its profile, from which groups
        grew). That holds for every reader, admins included: while a wave runs, its wave pages show who has
        answered, not what."""
        return self.state == WaveState.CLOSED

    @staticmethod
    def with_results():
        """Waves whose results may be shown, newest first."""
        return select(Wave).where(Wave.results_published).order_by(Wave.opens_on.desc().nulls_last(), Wave.slug.desc())

    def __repr__(self) -> str:
        return f"<Wave {self.slug} {self.state}>"
