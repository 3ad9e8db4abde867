"""Moving a suggestion along (adopt, handle, finish, decline), with points when it is adopted."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.core.models import Suggestion, SuggestionStatus
from bot.domain.points import ADOPTED, PointsRules, award
from bot.domain.points_items import builtin_value
from bot.domain.suggestions import change_status


def award_adoption(db: Session, rules: PointsRules, suggestion: Suggestion,
                   now: datetime | None = None) -> bool:
    """Points to the author of an adopted suggestion, once per suggestion, as the village's
    list values adoption now."""
    item_id, points = builtin_value(db, suggestion.group_id, ADOPTED, rules)
    if not points:  # the village switched adoption points off
        return False
    return award(db, group_id=suggestion.group_id, user_id=suggestion.author_id,
                 user_name=suggestion.author_name, reason=ADOPTED, ref=str(suggestion.id),
                 points=points, now=now, item_id=item_id)


def move_suggestion(db: Session, number: int, to: SuggestionStatus, *, rules: PointsRules,
                    actor_id: str, actor_name: str, reply: str = "",
                    group_id: int | None = None, now: datetime | None = None) -> Suggestion:
    """Move a suggestion one step and award the adoption points (chat and console alike)."""
    suggestion = change_status(db, number, to, actor_id=actor_id, actor_name=actor_name,
                               reply=reply, group_id=group_id, now=now)
    if to is SuggestionStatus.ADOPTED:
        award_adoption(db, rules, suggestion, now)
    return suggestion
