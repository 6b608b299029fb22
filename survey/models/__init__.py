"""Typed models, one module per aggregate. Importing this package registers every table."""

from survey.models.clusters import Cluster, Contact, Organisation, membership
from survey.models.invitations import Invitation, hash_token
from survey.models.responses import Draft, Response, response_cluster
from survey.models.tallies import Tally
from survey.models.waves import Questionnaire, Wave, WaveState, WaveStateError

__all__ = [
    "Cluster",
    "Contact",
    "Draft",
    "Invitation",
    "Organisation",
    "Questionnaire",
    "Response",
    "Tally",
    "Wave",
    "WaveState",
    "WaveStateError",
    "hash_token",
    "membership",
    "response_cluster",
]
