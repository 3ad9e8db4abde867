"""The order of roles: member < facilitator < secretary < admin, for chat and console alike."""

from __future__ import annotations

from bot.core.models import Role

ROLE_RANK = {Role.MEMBER: 0, Role.FACILITATOR: 1, Role.SECRETARY: 2, Role.ADMIN: 3}


def allows(role: Role, needed: Role) -> bool:
    """Whether `role` is `needed` or higher."""
    return ROLE_RANK[role] >= ROLE_RANK[needed]
