"""Typed models, one module per aggregate. Importing this package registers every table."""

from survey.models.audit import DownloadLog
from survey.models.clusters import Cluster, Contact, DeliveryProblem, Organisation, ProfileChange, membership
from survey.models.invitations import Invitation, hash_token
from survey.models.mailings import Mailing, MailKind, MailText, ReminderDate
from survey.models.protections import WaveProtection
from survey.models.responses import Draft, Response, response_cluster
from survey.models.tallies import Tally
from survey.models.users import ApiToken, LoginSession, Role, User, user_cluster
from survey.models.waves import QuestionnaireVersion, Wave, WaveState, WaveStateError

__all__ = [
    "ApiToken",
    "Cluster",
    "Contact",
    "DeliveryProblem",
    "DownloadLog",
    "Draft",
    "Invitation",
    "LoginSession",
    "MailKind",
    "Mailing",
    "MailText",
    "Organisation",
    "ProfileChange",
    "QuestionnaireVersion",
    "ReminderDate",
    "Response",
    "Role",
    "Tally",
    "User",
    "Wave",
    "WaveState",
    "WaveProtection",
    "WaveStateError",
    "hash_token",
    "membership",
    "response_cluster",
    "user_cluster",
]
