"""People who log in (admins, cluster managers, policymakers), their log-in sessions and personal API tokens.

Respondents never have accounts: their invitation link is their credential.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Column, Enum, ForeignKey, String, Table, false, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.extensions import db
from survey.models.clusters import Cluster


class Role(enum.StrEnum):
    #: Runs the platform: users, clusters, waves; sees everything.
    ADMIN = "admin"
    #: Runs the survey among the members of their clusters and sees those clusters' results.
    MANAGER = "manager"
    #: Sees aggregate results across all clusters, never one organisation's answers.
    POLICYMAKER = "policymaker"


#: The clusters a cluster manager manages (empty for the other roles).
user_cluster = Table(
    "user_cluster",
    db.metadata,
    Column("user_id", ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
    Column("cluster_id", ForeignKey("cluster.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class User(db.Model):
    """An account. Implements what Flask-Login expects of a user object."""

    # "user" is a reserved word in PostgreSQL.
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored lower-cased, so that log-in does not depend on how the address was typed.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    #: argon2id hash in PHC string format.
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    #: A deactivated account cannot log in and its sessions and API tokens stop working.
    active: Mapped[bool] = mapped_column(default=True)
    #: The password was made by an admin (and seen by them): the user chooses their own at the next log-in.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    clusters: Mapped[list[Cluster]] = relationship(secondary=user_cluster, order_by="Cluster.slug")

    # Set by the session loader and at log-in; never stored. See get_id().
    session_token = None

    # Flask-Login's interface.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        """What Flask-Login keeps in the session cookie: the token of a server-side login session, not the
        user's id, so that deleting that record at log-out ends the session even for a copy of the cookie."""
        if self.session_token is None:
            raise RuntimeError("this user was not loaded through a login session")
        return self.session_token

    def __repr__(self) -> str:  # never the e-mail address: reprs end up in logs
        return f"<User {self.id} {self.role}>"


class LoginSession(db.Model):
    """One browser's log-in. The cookie holds a random token; only its hash is stored here."""

    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    #: SHA-256 of the token in the session cookie.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]

    user: Mapped[User] = relationship()


class ApiToken(db.Model):
    """A personal token for the JSON API, sent as `Authorization: Bearer …`. Shown once, stored hashed."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    #: The owner's own label, so that they know which token to revoke.
    name: Mapped[str] = mapped_column(String(100))
    #: SHA-256 of the token.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]

    user: Mapped[User] = relationship()
