"""Merging duplicate suggestions: one keeps counting, the others point to it."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import Session, col, select

from bot import texts
from bot.core.models import Suggestion, SuggestionChange
from bot.domain.suggestions import SuggestionError, get_suggestion
from scheduler.dbtypes import utcnow

log = logging.getLogger(__name__)


def root_of(db: Session, row: Suggestion) -> Suggestion:
    """The suggestion a merged one ended up in (itself if it was never merged)."""
    seen = {row.id}
    while row.merged_into is not None:
        parent = db.get(Suggestion, row.merged_into)
        if parent is None or parent.id in seen:  # a broken chain: stop where it breaks
            break
        seen.add(parent.id)
        row = parent
    return row


def is_merge_step(change: SuggestionChange) -> bool:
    """Whether a history row records a merge (or its undoing) rather than a status change."""
    return change.from_status == change.to_status


def _record(db: Session, row: Suggestion, actor_id: str, actor_name: str, note: str,
            now: datetime) -> None:
    assert row.id is not None
    # Same status before and after: the history shows the merge without moving the status.
    db.add(SuggestionChange(suggestion_id=row.id, from_status=row.status, to_status=row.status,
                            actor_id=actor_id, actor_name=actor_name, reply=note,
                            created_at=now))


def merge_suggestion(db: Session, number: int, into: int, *, actor_id: str, actor_name: str,
                     now: datetime | None = None) -> Suggestion:
    """Mark suggestion `number` a duplicate of `into`: hidden from the board and the figures.

    Nobody is told; the duplicate keeps its history and gains a line saying where it went.
    Duplicates of the duplicate move along with it, so every chain stays one step long.
    """
    now = now or utcnow()
    row = get_suggestion(db, number)
    if row.merged_into is not None:
        raise SuggestionError(texts.ADMIN_SUG_MERGE_ALREADY.format(number=number,
                                                              into=row.merged_into))
    if into == number:
        raise SuggestionError(texts.ADMIN_SUG_MERGE_SELF.format(number=number))
    target = root_of(db, get_suggestion(db, into))
    if target.id == number:
        raise SuggestionError(texts.ADMIN_SUG_MERGE_CYCLE.format(number=number, into=into))
    assert target.id is not None
    row.merged_into, row.updated_at = target.id, now
    db.add(row)
    _record(db, row, actor_id, actor_name, texts.ADMIN_SUG_MERGE_NOTE.format(into=target.id), now)
    for child in db.exec(select(Suggestion).where(Suggestion.merged_into == number)).all():
        child.merged_into = target.id
        db.add(child)
    db.flush()
    log.info("suggestion %s merged into %s by %s", number, target.id, actor_id)
    return row


def unmerge_suggestion(db: Session, number: int, *, actor_id: str, actor_name: str,
                       now: datetime | None = None) -> Suggestion:
    """Undo a merge: the suggestion counts and shows again on its own."""
    now = now or utcnow()
    row = get_suggestion(db, number)
    if row.merged_into is None:
        raise SuggestionError(texts.ADMIN_SUG_NOT_MERGED.format(number=number))
    was = row.merged_into
    row.merged_into, row.updated_at = None, now
    db.add(row)
    _record(db, row, actor_id, actor_name, texts.ADMIN_SUG_UNMERGE_NOTE.format(into=was), now)
    db.flush()
    log.info("suggestion %s taken out of %s by %s", number, was, actor_id)
    return row


def duplicates_of(db: Session, number: int) -> list[Suggestion]:
    """The suggestions merged into `number`, oldest first."""
    query = (select(Suggestion).where(Suggestion.merged_into == number)
             .order_by(col(Suggestion.id)))
    return list(db.exec(query))
