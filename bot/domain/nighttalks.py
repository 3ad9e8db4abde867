"""Night talks (夜话): schedule, open, close and cancel them; NightTalkHost posts each step."""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot import texts
from bot.core.adapter import AdapterError
from bot.core.db import in_session
from bot.core.messages import OutgoingText
from bot.core.models import (
    Group,
    NightTalk,
    NightTalkStatus,
)
from bot.domain.ledger import ledger_key, ledger_url
from bot.domain.talk_schedule import (
    ANNOUNCE,
    CANCEL,
    CLOSE,
    LIVE,
    OPEN,
    REMIND_30,
    REMIND_BEFORE,
    REMIND_EVE,
    NightTalkError,
    confirm_night_talk,
    end_series,
    follow_series,
    get_talk,
    schedule_night_talk,
    talk_ref,
)
from bot.domain.talk_series import repeat_note
from bot.domain.talk_texts import (
    clock_text,
    date_text,
    message_parts,
    summary_text,
    talk_fields,
    when_text,
)
from bot.outbox import Outbox
from scheduler.dbtypes import utcnow
from scheduler.models import Timer
from scheduler.timers import (
    AlwaysDue,
    TimerHandler,
    TimerStatus,
    cancel_timer,
    cancel_timers,
    finish_timer,
    get_timer,
    take_timer,
)

log = logging.getLogger(__name__)

Change = Callable[..., NightTalk]
Step = Callable[[int, datetime], Awaitable[None]]

__all__ = [
    "ANNOUNCE",
    "CANCEL",
    "CLOSE",
    "LIVE",
    "OPEN",
    "REMIND_30",
    "REMIND_EVE",
    "NightTalkError",
    "NightTalkHost",
    "cancel_night_talk",
    "clock_text",
    "close_night_talk",
    "confirm_night_talk",
    "date_text",
    "end_night_talk",
    "end_series",
    "list_talks",
    "next_talk",
    "open_night_talk",
    "open_talk",
    "schedule_night_talk",
    "summary_text",
    "talk_ref",
    "when_text",
]

def _refuse_if_over(talk: NightTalk) -> None:
    if talk.status == NightTalkStatus.DRAFT:
        raise NightTalkError(texts.TALK_ERR_DRAFT.format(id=talk.id))
    if talk.status == NightTalkStatus.CANCELLED:
        raise NightTalkError(texts.NIGHT_ERR_CANCELLED.format(id=talk.id))
    if talk.status == NightTalkStatus.CLOSED:
        raise NightTalkError(texts.NIGHT_ERR_CLOSED.format(id=talk.id))


def open_night_talk(db: Session, talk_id: int, *, now: datetime | None = None) -> NightTalk:
    """Open a night talk (at its time or early, by hand); opening an open one changes nothing."""
    now = now or utcnow()
    talk = get_talk(db, talk_id)
    if talk.status == NightTalkStatus.OPEN:
        return talk
    _refuse_if_over(talk)
    if now >= talk.ends_at:
        raise NightTalkError(texts.NIGHT_ERR_ENDED.format(id=talk_id))
    busy = open_talk(db, talk.group_id)
    if busy is not None:
        raise NightTalkError(texts.NIGHT_ERR_BUSY.format(id=busy.id, topic=busy.topic))
    talk.status, talk.opened_at = NightTalkStatus.OPEN, now
    db.add(talk)
    db.flush()
    for kind in (ANNOUNCE, REMIND_EVE, REMIND_30, OPEN):  # all moot once it is open
        cancel_timer(db, kind, talk_ref(talk_id))
    log.info("night talk %s opened", talk_id)
    return talk


def close_night_talk(db: Session, talk_id: int, *, now: datetime | None = None) -> NightTalk:
    """Close a night talk (at its end or early, by hand); closing a closed one changes nothing."""
    talk = get_talk(db, talk_id)
    if talk.status == NightTalkStatus.CLOSED:
        return talk
    _refuse_if_over(talk)
    talk.status, talk.closed_at = NightTalkStatus.CLOSED, now or utcnow()
    db.add(talk)
    db.flush()
    cancel_timers(db, talk_ref(talk_id))
    log.info("night talk %s closed", talk_id)
    follow_series(db, talk, talk.closed_at)
    return talk


def end_night_talk(db: Session, talk_id: int, *, now: datetime | None = None) -> NightTalk:
    """Close a night talk by hand: only one that has begun. One still to come was never held
    (a report would count it): calling it off is what was meant."""
    talk = get_talk(db, talk_id)
    if talk.status == NightTalkStatus.SCHEDULED:
        raise NightTalkError(texts.NIGHT_ERR_NOT_BEGUN.format(id=talk_id))
    return close_night_talk(db, talk_id, now=now)


def cancel_night_talk(db: Session, talk_id: int, *, now: datetime | None = None) -> NightTalk:
    """Call a night talk off: nothing more of it is posted but the notice that it is off."""
    talk = get_talk(db, talk_id)
    if talk.status == NightTalkStatus.CANCELLED:
        return talk
    if talk.status == NightTalkStatus.CLOSED:
        raise NightTalkError(texts.NIGHT_ERR_CLOSED.format(id=talk_id))
    was_draft = talk.status == NightTalkStatus.DRAFT
    talk.status = NightTalkStatus.CANCELLED
    db.add(talk)
    db.flush()
    cancel_timers(db, talk_ref(talk_id))
    log.info("night talk %s cancelled", talk_id)
    if not was_draft:
        follow_series(db, talk, now or utcnow())
    return talk


def open_talk(db: Session, group_id: int) -> NightTalk | None:
    """The group's night talk that is open now, if any."""
    query = (select(NightTalk)
             .where(NightTalk.group_id == group_id, NightTalk.status == NightTalkStatus.OPEN)
             .order_by(col(NightTalk.opened_at).desc()))
    return db.exec(query).first()


def next_talk(db: Session, group_id: int, now: datetime) -> NightTalk | None:
    """The open night talk, else the group's next scheduled one, else None."""
    query = (select(NightTalk)
             .where(NightTalk.group_id == group_id,
                    NightTalk.status == NightTalkStatus.SCHEDULED, col(NightTalk.ends_at) > now)
             .order_by(col(NightTalk.starts_at), col(NightTalk.id)))
    return open_talk(db, group_id) or db.exec(query).first()


def list_talks(db: Session, *, include_past: bool = False) -> list[NightTalk]:
    """Night talks by start time: scheduled and open ones, or all of them."""
    query = select(NightTalk).order_by(col(NightTalk.starts_at), col(NightTalk.id))
    if not include_past:
        query = query.where(col(NightTalk.status).in_(LIVE))
    return list(db.exec(query))


class NightTalkHost:
    """Posts a night talk's steps to its group: from the scheduler's timers, or by hand."""

    def __init__(self, engine: Engine, outbox: Outbox, *, public_url: str = "") -> None:
        self.engine = engine
        self.outbox = outbox
        self.public_url = public_url  # with it, the closing summary links the public ledger

    def handlers(self) -> dict[str, TimerHandler]:
        """Timer handlers for Scheduler(timer_handlers=...); late reminders are dropped."""
        return {ANNOUNCE: AlwaysDue(self._on_timer(self._announce)),
                REMIND_EVE: self._on_timer(self._remind_eve),
                REMIND_30: self._on_timer(self._remind_soon),
                OPEN: AlwaysDue(self._on_timer(self._open)),  # it skips a talk already over
                CLOSE: AlwaysDue(self._on_timer(self._close)),  # closing is never too late
                CANCEL: AlwaysDue(self._on_timer(self._cancel))}

    def _on_timer(self, step: Step) -> TimerHandler:
        async def handle(timer: Timer) -> None:
            await step(int(timer.ref.rsplit(":", 1)[1]), timer.fired_at or utcnow())

        return handle

    async def announce(self, talk_id: int, *, now: datetime | None = None) -> NightTalk:
        """Post the announcement now, unless it went out already."""
        return await self._by_hand(ANNOUNCE, talk_id, now, None, self._announce)

    async def remind(self, talk_id: int, when: str = "30", *, now: datetime | None = None
                     ) -> NightTalk:
        """Post the evening-before ("eve") or the half-hour ("30") reminder, once."""
        if when == "eve":
            return await self._by_hand(REMIND_EVE, talk_id, now, None, self._remind_eve)
        return await self._by_hand(REMIND_30, talk_id, now, None, self._remind_soon)

    async def open(self, talk_id: int, *, now: datetime | None = None) -> NightTalk:
        """Open the talk and post the opening note (once); NightTalkError if it cannot open."""
        return await self._by_hand(OPEN, talk_id, now, open_night_talk, self._open)

    async def close(self, talk_id: int, *, now: datetime | None = None) -> NightTalk:
        """Close the talk and post the numbered summary (once)."""
        return await self._by_hand(CLOSE, talk_id, now, end_night_talk, self._close)

    async def cancel(self, talk_id: int, *, now: datetime | None = None) -> NightTalk:
        """Cancel the talk and, if it was announced, tell the group (once)."""
        return await self._by_hand(CANCEL, talk_id, now, cancel_night_talk, self._cancel)

    async def confirm(self, talk_id: int, *, now: datetime | None = None) -> NightTalk:
        """The facilitator's 确认: the draft is scheduled and its announcement posted."""
        now = now or utcnow()
        await in_session(self.engine, confirm_night_talk, talk_id, now=now)
        return await self.announce(talk_id, now=now)

    async def end_series(self, series_id: int, *, now: datetime | None = None) -> list[int]:
        """Stop a series and call off its coming talk, telling the group if it was announced."""
        now = now or utcnow()
        coming = await in_session(self.engine, end_series, series_id)
        for talk_id in coming:
            await self.cancel(talk_id, now=now)
        return coming

    async def _by_hand(self, kind: str, talk_id: int, now: datetime | None,
                       change: Change | None, step: Step) -> NightTalk:
        now = now or utcnow()

        def take(db: Session) -> Timer | None:
            if change is not None:
                change(db, talk_id, now=now)
            else:
                get_talk(db, talk_id)
            # Taking the step's timer makes it ours alone: the alarm will not post it again.
            return take_timer(db, kind, talk_ref(talk_id), now)

        timer = await in_session(self.engine, take)
        if timer is not None and timer.id is not None:
            error = None
            try:
                await step(talk_id, now)
            except AdapterError as exc:
                log.warning("night talk %s: posting %s failed: %s", talk_id, kind, exc)
                error = f"{type(exc).__name__}: {exc}"
            await in_session(self.engine, finish_timer, timer.id, error)
        return await in_session(self.engine, get_talk, talk_id)

    async def _load(self, talk_id: int) -> tuple[NightTalk, Group]:
        return await in_session(self.engine, _talk_and_group, talk_id)

    async def _post(self, group: Group, *messages: str) -> list[str]:
        return await self.outbox.send(group.platform, group.chat_id,
                                      [OutgoingText(text) for text in messages])

    async def _announce(self, talk_id: int, now: datetime) -> None:
        talk, group = await self._load(talk_id)
        if talk.status == NightTalkStatus.SCHEDULED and now < talk.starts_at:
            text = texts.NIGHT_ANNOUNCE.format(**talk_fields(talk, group, now))
            repeats = await in_session(self.engine, repeat_note, talk)
            if repeats:
                text += texts.TALK_ANNOUNCE_REPEATS.format(rhythm=repeats)
            await self._post(group, text)

    async def _remind_eve(self, talk_id: int, now: datetime) -> None:
        talk, group = await self._load(talk_id)
        if talk.status == NightTalkStatus.SCHEDULED and now < talk.starts_at - REMIND_BEFORE:
            await self._post(group, texts.NIGHT_REMIND_EVE.format(**talk_fields(talk, group, now)))

    async def _remind_soon(self, talk_id: int, now: datetime) -> None:
        talk, group = await self._load(talk_id)
        if talk.status != NightTalkStatus.SCHEDULED or now >= talk.starts_at:
            return
        minutes = math.ceil((talk.starts_at - now).total_seconds() / 60)
        left = texts.NIGHT_HALF_HOUR if minutes >= 25 else texts.NIGHT_MINUTES.format(n=minutes)
        await self._post(group, texts.NIGHT_REMIND_SOON.format(left=left,
                                                               **talk_fields(talk, group, now)))

    async def _open(self, talk_id: int, now: datetime) -> None:
        try:
            talk = await in_session(self.engine, open_night_talk, talk_id, now=now)
        except NightTalkError as exc:  # over, called off, or another talk is still on
            log.info("night talk %s not opened: %s", talk_id, exc)
            return
        if talk.open_message_id is not None:
            return
        talk, group = await self._load(talk_id)
        [message_id] = await self._post(group, texts.NIGHT_OPEN.format(
            **talk_fields(talk, group, now)))
        await in_session(self.engine, _note_opening, talk_id, message_id)

    async def _close(self, talk_id: int, now: datetime) -> None:
        def close(db: Session) -> str:
            talk = close_night_talk(db, talk_id, now=now)
            link = ""
            group = db.get(Group, talk.group_id)
            if self.public_url and group is not None:
                link = ledger_url(self.public_url, ledger_key(db, group))
            return summary_text(db, talk, link)

        try:
            summary = await in_session(self.engine, close)
        except NightTalkError as exc:  # called off meanwhile: nothing to sum up
            log.info("night talk %s not closed: %s", talk_id, exc)
            return
        _, group = await self._load(talk_id)
        await self._post(group, *message_parts(summary))

    async def _cancel(self, talk_id: int, now: datetime) -> None:
        talk, group = await self._load(talk_id)
        announced = await in_session(self.engine, get_timer, ANNOUNCE, talk_ref(talk_id))
        if talk.status != NightTalkStatus.CANCELLED or announced is None or (
                announced.status != TimerStatus.FIRED or announced.error):
            return  # nobody was told it was on, so nobody needs telling it is off
        await self._post(group, texts.NIGHT_CANCEL.format(**talk_fields(talk, group, now)))


def _talk_and_group(db: Session, talk_id: int) -> tuple[NightTalk, Group]:
    talk = get_talk(db, talk_id)
    group = db.get(Group, talk.group_id)
    assert group is not None, "a night talk's group is kept"
    return talk, group


def _note_opening(db: Session, talk_id: int, message_id: str) -> None:
    talk = get_talk(db, talk_id)
    talk.open_message_id = message_id
    db.add(talk)
