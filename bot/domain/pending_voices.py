"""Voice messages sent outside a night talk, offered to their member as a suggestion.

A voice outside a talk may be chat or a suggestion; the bot asks, and the member's 「是」 within
`VOICE_WAIT` makes it one. The offer is stored, so a restart between the two loses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, select

from bot.core.models import PendingVoice

VOICE_WAIT = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class WaitingVoice:
    """A voice the member may still make a suggestion."""

    id: int
    message_id: str
    voice_path: str
    text: str


def hold_voice(db: Session, *, group_id: int, user_id: str, message_id: str, voice_path: str,
               text: str, now: datetime) -> bool:
    """Keep a voice on offer; True when the member should be asked (no other voice of theirs
    was already waiting, and this one was not seen before).

    Clips sent in a row are one offer, so a member who talks in several clips is asked once.
    """
    cutoff = now - VOICE_WAIT
    db.exec(delete(PendingVoice).where(
        col(PendingVoice.group_id) == group_id, col(PendingVoice.created_at) < cutoff))
    seen = db.exec(select(PendingVoice.id).where(
        PendingVoice.group_id == group_id, PendingVoice.message_id == message_id)).first()
    if seen is not None:  # a redelivery: stored and asked about the first time
        return False
    waiting = db.exec(select(PendingVoice.id).where(
        PendingVoice.group_id == group_id, PendingVoice.user_id == user_id)).first()
    db.add(PendingVoice(group_id=group_id, user_id=user_id, message_id=message_id,
                        voice_path=voice_path, text=text, created_at=now))
    return waiting is None


def waiting_voices(db: Session, *, group_id: int, user_id: str,
                   now: datetime) -> list[WaitingVoice]:
    """The member's voices still on offer in the group, oldest first."""
    rows = db.exec(select(PendingVoice).where(
        PendingVoice.group_id == group_id, PendingVoice.user_id == user_id,
        col(PendingVoice.created_at) >= now - VOICE_WAIT).order_by(col(PendingVoice.id)))
    return [WaitingVoice(row.id, row.message_id, row.voice_path, row.text)
            for row in rows if row.id is not None]


def drop_voices(db: Session, ids: list[int]) -> None:
    """Take voices off offer: made suggestions, or refused by the day's cap."""
    if ids:
        db.exec(delete(PendingVoice).where(
            col(PendingVoice.id).in_(ids)))
