from .audit import AuditEvent
from .calendar import CalendarDay, CalendarYear
from .imports import ImportRun
from .jobs import JobRun
from .notifications import Notification
from .organisations import ApiToken, Organisation, Region, Role, User
from .rates import ExchangeRate, LprRate
from .rulesets import RuleSet
from .simulations import RuleSetDraft, Simulation

__all__ = [
    "ApiToken",
    "AuditEvent",
    "CalendarDay",
    "CalendarYear",
    "ExchangeRate",
    "ImportRun",
    "JobRun",
    "LprRate",
    "Notification",
    "Organisation",
    "Region",
    "Role",
    "RuleSet",
    "RuleSetDraft",
    "Simulation",
    "User",
]
