"""Accounts models, one module per aggregate."""

from innominatus.accounts.models.api_key import ApiKey
from innominatus.accounts.models.audit import AuditEvent
from innominatus.accounts.models.counter import RateCounter, RateHit
from innominatus.accounts.models.identity import ExternalIdentity
from innominatus.accounts.models.team import Team

__all__ = ["ApiKey", "AuditEvent", "ExternalIdentity", "RateCounter", "RateHit", "Team"]
