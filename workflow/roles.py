"""The role identifiers shared by every definition, the CLI and the API (DOMAIN.md)."""
from __future__ import annotations

from functools import lru_cache
from typing import Iterable

__all__ = ["ROLES", "SOCIAL_WORK_ROLES", "role_label", "roles_phrase"]

#: Every role a person may hold; registration is a separate attribute, not a role.
ROLES: tuple[str, ...] = (
    "social_worker", "advanced_social_worker", "practice_supervisor", "practice_educator",
    "team_manager", "team_leader", "service_manager", "head_of_service",
    "community_care_worker", "social_work_assistant", "family_support_worker",
    "early_help_practitioner", "student_social_worker", "tac_senior_practitioner",
    "partner_practitioner",
)

#: Roles that make a person social-work-qualified *when* their registration is current.
#: A student, a CCW or an SWA is never qualified, whatever number they quote.
SOCIAL_WORK_ROLES: frozenset[str] = frozenset({
    "social_worker", "advanced_social_worker", "practice_supervisor", "practice_educator",
    "team_manager", "team_leader", "service_manager", "head_of_service",
})

_LABELS = {
    "tac_senior_practitioner": "TAC senior practitioner",
    "partner_practitioner": "partner-agency practitioner",
}


def role_label(role: str) -> str:
    """'community_care_worker' → 'community care worker'."""
    return _LABELS.get(role, role.replace("_", " "))


def roles_phrase(roles: Iterable[str], joiner: str = "or") -> str:
    """['a', 'b', 'c'] → 'a, b or c' with readable labels."""
    return _phrase(tuple(roles), joiner)


@lru_cache(maxsize=1024)
def _phrase(roles: tuple[str, ...], joiner: str) -> str:
    labels = [role_label(r) for r in roles]
    if len(labels) <= 1:
        return "".join(labels)
    return f"{', '.join(labels[:-1])} {joiner} {labels[-1]}"
