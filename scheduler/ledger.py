"""The delivery ledger: one row per (lesson, group, occurrence), claimed before sending."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from scheduler.dbtypes import insert_once, utcnow
from scheduler.models import Delivery, DeliveryStatus
from scheduler.schedules import ScheduleError

log = logging.getLogger(__name__)

# User-facing texts, kept together for review.
NO_DELIVERY = "找不到编号为 {id} 的发送记录"
CANNOT_RETRY = "发送记录 {id} 的状态是“{status}”，只有发送失败或错过的记录可以重发"

UNIQUE_KEY = ("lesson_slug", "group_id", "occurrence")
RETRYABLE = (DeliveryStatus.FAILED, DeliveryStatus.MISSED)
ERROR_LIMIT = 2000


def _insert_unique(db: Session, row: Delivery) -> Delivery | None:
    """Insert `row` unless its (lesson, group, occurrence) exists; the outer session survives."""
    new_id = insert_once(db, row, UNIQUE_KEY)
    return db.get(Delivery, new_id) if new_id is not None else None


def claim(
    db: Session,
    *,
    lesson_slug: str,
    group_id: int,
    occurrence: datetime,
    schedule_id: int | None,
    late: bool = False,
) -> Delivery | None:
    """Claim an occurrence for sending; None when it is already claimed, sent or recorded."""
    row = Delivery(
        lesson_slug=lesson_slug,
        group_id=group_id,
        occurrence=occurrence,
        schedule_id=schedule_id,
        status=DeliveryStatus.CLAIMED,
        late=late,
        claimed_at=utcnow(),
    )
    return _insert_unique(db, row)


def record_missed(
    db: Session,
    *,
    lesson_slug: str,
    group_id: int,
    occurrence: datetime,
    schedule_id: int | None,
) -> Delivery | None:
    """Record an occurrence that was due too long ago to post; None when it already has a row."""
    row = Delivery(
        lesson_slug=lesson_slug,
        group_id=group_id,
        occurrence=occurrence,
        schedule_id=schedule_id,
        status=DeliveryStatus.MISSED,
        claimed_at=utcnow(),
    )
    return _insert_unique(db, row)


def _get(db: Session, delivery_id: int) -> Delivery:
    row = db.get(Delivery, delivery_id)
    if row is None:
        raise ScheduleError(NO_DELIVERY.format(id=delivery_id))
    return row


def mark_sent(
    db: Session,
    delivery_id: int,
    *,
    text_message_id: str | None,
    audio_message_id: str | None,
    speech_engine: str | None,
    audio_pending: bool = False,
    now: datetime | None = None,
) -> Delivery:
    """Mark a delivery sent; call again when a pending voice follows (None keeps a stored id)."""
    row = _get(db, delivery_id)
    row.status = DeliveryStatus.SENT
    row.sent_at = row.sent_at or now or utcnow()
    if text_message_id is not None:
        row.text_message_id = text_message_id
    if audio_message_id is not None:
        row.audio_message_id = audio_message_id
    if speech_engine is not None:
        row.speech_engine = speech_engine
    row.audio_pending = audio_pending
    row.error = None
    db.add(row)
    db.flush()
    return row


def record_progress(db: Session, delivery_id: int, *, text_message_id: str | None = None,
                    audio_message_id: str | None = None) -> None:
    """Note a part of a post as sent, so a crash mid-post resends only what had not gone out."""
    row = _get(db, delivery_id)
    if text_message_id is not None:
        row.text_message_id = text_message_id
    if audio_message_id is not None:
        row.audio_message_id = audio_message_id
    db.add(row)
    db.flush()


def mark_failed(db: Session, delivery_id: int, error: str) -> Delivery:
    """Mark a delivery failed with the error, counting the attempt."""
    row = _get(db, delivery_id)
    row.status = DeliveryStatus.FAILED
    row.attempts += 1
    row.error = error[:ERROR_LIMIT]
    db.add(row)
    db.flush()
    log.warning("delivery %s of %s to group %s failed: %s", row.id, row.lesson_slug,
                row.group_id, error)
    return row


def retry(db: Session, delivery_id: int) -> Delivery:
    """Claim a failed or missed delivery again, for a manual retry; otherwise ScheduleError."""
    row = _get(db, delivery_id)
    if row.status not in RETRYABLE:
        raise ScheduleError(CANNOT_RETRY.format(id=delivery_id, status=row.status.value))
    row.status = DeliveryStatus.CLAIMED
    row.claimed_at = utcnow()
    row.error = None
    db.add(row)
    db.flush()
    return row


def take_over(db: Session, row: Delivery, now: datetime) -> bool:
    """Claim anew a delivery whose claim was left unrenewed; False when another instance did
    first (its claim time is no longer the one `row` was read with)."""
    taken = db.execute(
        update(Delivery)
        .where(col(Delivery.id) == row.id, col(Delivery.status) == DeliveryStatus.CLAIMED,
               col(Delivery.claimed_at) == row.claimed_at)
        .values(claimed_at=now)
        .execution_options(synchronize_session=False))
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return False
    row.claimed_at = now
    return True


def in_flight(db: Session) -> list[Delivery]:
    """Deliveries claimed but never marked sent or failed, oldest claim first."""
    query = (
        select(Delivery)
        .where(Delivery.status == DeliveryStatus.CLAIMED)
        .order_by(col(Delivery.claimed_at), col(Delivery.id))
    )
    return list(db.exec(query))


def deliveries(
    db: Session,
    *,
    group_id: int | None = None,
    status: DeliveryStatus | None = None,
    limit: int = 100,
) -> list[Delivery]:
    """Ledger rows, newest first, optionally for one group or one status."""
    query = select(Delivery)
    if group_id is not None:
        query = query.where(Delivery.group_id == group_id)
    if status is not None:
        query = query.where(Delivery.status == status)
    return list(db.exec(query.order_by(col(Delivery.id).desc()).limit(limit)))
