"""Who handles an adopted suggestion and by when: assigning, to-dos, overdue items, the digest.

A handler is a member of the group (told in the chat) or a named person outside it, reached by
phone (the grid worker, the road crew), whom the secretary calls. A deadline is a local day: an
item is overdue once that day has ended in the group's time zone and it is neither done nor
declined.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot import texts
from bot.core.adapter import AdapterError
from bot.core.db import in_session
from bot.core.messages import OutgoingText
from bot.core.models import Group, Member, Role, Suggestion, SuggestionChange, SuggestionStatus
from bot.domain.suggestions import STATUS_LABELS, SuggestionError, get_suggestion
from bot.outbox import Outbox
from scheduler.dbtypes import utcnow
from scheduler.models import Timer
from scheduler.timers import AlwaysDue, TimerStatus, add_timer

log = logging.getLogger(__name__)

OPEN = (SuggestionStatus.ADOPTED, SuggestionStatus.IN_PROGRESS)
DIGEST_KIND = "handling.digest"
TELL_KIND = "handling.tell"  # the CLI assigned: the running bot tells the handler
DIGEST_AT = time(8, 30)  # local time: before the day's work, after the morning's chores
NAME_LIMIT = 30
ROLE_LIMIT = 20
QUOTE_LIMIT = 20
PROXY_PREFIX = "proxy:"
SECRETARIES = (Role.SECRETARY, Role.ADMIN)
_PHONE = re.compile(r"\+?[\d\- ]{7,20}")


@dataclass(frozen=True)
class Handler:
    """Who a suggestion is given to: a member (user id) or someone outside the group (phone)."""

    name: str
    user_id: str | None = None
    phone: str | None = None
    role: str | None = None  # 网格员, 修路队: shown where a phone number must not be


def is_overdue(suggestion: Suggestion, now: datetime) -> bool:
    """Whether an item is past its deadline and still neither done nor declined."""
    return (suggestion.due_at is not None and suggestion.status in OPEN
            and suggestion.due_at < now)


def overdue_clause(now: datetime) -> ColumnElement[bool]:
    """The same test as `is_overdue`, for a query over Suggestion."""
    return and_(col(Suggestion.due_at).is_not(None), col(Suggestion.due_at) < now,
                col(Suggestion.status).in_([s.value for s in OPEN]))


def overdue_suggestions(db: Session, now: datetime, *, group_id: int | None = None
                        ) -> list[Suggestion]:
    """Every overdue item (of one group, if given), the longest overdue first."""
    query = select(Suggestion).where(overdue_clause(now))
    if group_id is not None:
        query = query.where(Suggestion.group_id == group_id)
    return list(db.exec(query.order_by(col(Suggestion.due_at), col(Suggestion.id))))


def open_assigned(db: Session, *, group_id: int | None = None,
                  handler_user_id: str | None = None) -> list[Suggestion]:
    """Assigned items not yet done or declined, the earliest deadline first."""
    query = select(Suggestion).where(col(Suggestion.assigned_at).is_not(None),
                                     col(Suggestion.status).in_([s.value for s in OPEN]))
    if group_id is not None:
        query = query.where(Suggestion.group_id == group_id)
    if handler_user_id is not None:
        query = query.where(Suggestion.handler_user_id == handler_user_id)
    return list(db.exec(query.order_by(col(Suggestion.due_at), col(Suggestion.id))))


def due_end(day: date, timezone: str) -> datetime:
    """The last moment of a local day, in UTC: the deadline 「12月20日前」 means."""
    zone = ZoneInfo(timezone)
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=zone).astimezone(
        ZoneInfo("UTC")) - timedelta(seconds=1)


def default_due(now: datetime, days: int, timezone: str) -> datetime:
    """The deadline when none was typed: the end of the day `days` days from today."""
    return due_end(now.astimezone(ZoneInfo(timezone)).date() + timedelta(days=days), timezone)


def due_text(due_at: datetime | None, timezone: str) -> str:
    """「12月20日」, the local day of a deadline."""
    if due_at is None:
        return ""
    day = due_at.astimezone(ZoneInfo(timezone)).date()
    return texts.DUE_DATE.format(month=day.month, day=day.day)


def days_over(due_at: datetime, now: datetime, timezone: str) -> int:
    """Whole days past the deadline's day (1 on the day after it)."""
    zone = ZoneInfo(timezone)
    return max(1, (now.astimezone(zone).date() - due_at.astimezone(zone).date()).days)


def find_member_handler(db: Session, group_id: int, who: str, *,
                        missing: str = texts.HANDLING_WHO_MISSING,
                        unknown: str = texts.HANDLING_NO_SUCH_MEMBER,
                        several: str = texts.HANDLING_WHICH_MEMBER) -> Handler:
    """The member `who` names: an @-mention's user id, a display name, or one unique part of it.

    SuggestionError (in Chinese) when nobody or several people fit, so the secretary is asked;
    `missing`, `unknown` ({name}) and `several` ({name}, {names}) word that question.
    """
    name = who.strip().lstrip("@＠").strip()
    if not name:
        raise SuggestionError(missing)
    found = match_members(db, group_id, name)
    if len(found) == 1:
        return Handler(found[0].display_name, user_id=found[0].user_id,
                       role=texts.CMD_ROLE_LABELS[found[0].role.value]
                       if found[0].role is not Role.MEMBER else None)
    if found:
        names = "、".join(m.display_name for m in found[:5])
        raise SuggestionError(several.format(name=name, names=names))
    raise SuggestionError(unknown.format(name=name))


def match_members(db: Session, group_id: int, who: str) -> list[Member]:
    """The group's members `who` names: a user id, then a whole display name, then a part of
    one; the first of these that fits anyone decides (several found: the name is ambiguous)."""
    name = who.strip().lstrip("@＠").strip()
    if not name:
        return []
    members = list(db.exec(select(Member).where(Member.group_id == group_id)))
    for rule in (lambda m: m.user_id == name, lambda m: m.display_name == name,
                 lambda m: name in m.display_name):
        found = [m for m in members if rule(m)]
        if found:
            return found
    return []


def member_names(db: Session, group_id: int) -> list[str]:
    """The display names of a group's members, offered when assigning in the console."""
    return sorted(db.exec(select(Member.display_name).where(Member.group_id == group_id)))


def outside_handler(name: str, phone: str, role: str | None = None) -> Handler:
    """Someone outside the group, reached by phone; SuggestionError if name or phone is off."""
    name, phone, role = name.strip(), phone.strip(), (role or "").strip() or None
    if not name:
        raise SuggestionError(texts.HANDLING_WHO_MISSING)
    if len(name) > NAME_LIMIT or (role and len(role) > ROLE_LIMIT):
        raise SuggestionError(texts.HANDLING_NAME_TOO_LONG.format(limit=NAME_LIMIT))
    digits = re.sub(r"\D", "", phone)
    if not _PHONE.fullmatch(phone) or not 7 <= len(digits) <= 15:
        raise SuggestionError(texts.HANDLING_BAD_PHONE.format(phone=phone))
    return Handler(name, phone=phone, role=role)


# Who to hand a suggestion to, asked with the chat's examples (find_member_handler's words).
CHAT_ASKING = (texts.HANDLING_WHO_MISSING, texts.HANDLING_NO_SUCH_MEMBER,
               texts.HANDLING_WHICH_MEMBER)


def find_handler(db: Session, group_id: int, name: str, *, phone: str = "",
                 role: str = "", asking: tuple[str, str, str] = CHAT_ASKING) -> Handler:
    """A member of the group by name, or, with a phone number, someone outside it; `asking`:
    the `missing`, `unknown` and `several` questions of `find_member_handler`, where the
    chat's examples are no help (the command line)."""
    if phone.strip():
        return outside_handler(name, phone, role)
    missing, unknown, several = asking
    handler = find_member_handler(db, group_id, name, missing=missing, unknown=unknown,
                                  several=several)
    if role.strip():
        handler = Handler(handler.name, user_id=handler.user_id, role=role.strip()[:ROLE_LIMIT])
    return handler


def assign(db: Session, number: int, handler: Handler, *, due_at: datetime, actor_id: str,
           actor_name: str, group_id: int | None = None, now: datetime | None = None
           ) -> tuple[Suggestion, str | None]:
    """Give an adopted suggestion to a handler with a deadline; (row, the handler before).

    A reassignment keeps the earlier one in the suggestion's history.
    """
    row = get_suggestion(db, number, group_id=group_id)
    if row.status not in OPEN:
        raise SuggestionError(texts.HANDLING_NOT_OPEN.format(number=number,
                                                             status=STATUS_LABELS[row.status]))
    now = now or utcnow()
    group = db.get(Group, row.group_id)
    timezone = group.timezone if group else "Asia/Shanghai"
    before = row.handler_name if row.assigned_at is not None else None
    if before == handler.name:
        before = None  # the same handler, a new deadline: no one was replaced
    row.handler_name, row.handler_user_id = handler.name, handler.user_id
    row.handler_phone, row.handler_role = handler.phone, handler.role
    row.assigned_at, row.due_at, row.updated_at = now, due_at, now
    db.add(row)
    due = due_text(due_at, timezone)
    note = (texts.HANDLING_HISTORY_AGAIN.format(name=handler.name, before=before, due=due)
            if before else texts.HANDLING_HISTORY.format(name=handler.name, due=due))
    db.add(SuggestionChange(suggestion_id=number, from_status=row.status, to_status=row.status,
                            actor_id=actor_id, actor_name=actor_name, reply=note,
                            created_at=now))
    if group is not None:
        ensure_digest_timer(db, group, now)
    db.flush()
    log.info("suggestion %s assigned to %s by %s", number, handler.user_id or "outside",
             actor_id)
    return row, before


def may_handle(suggestion: Suggestion, user_id: str) -> bool:
    """Whether `user_id` is the member the suggestion was given to."""
    return suggestion.handler_user_id is not None and suggestion.handler_user_id == user_id


def handled_by(db: Session, number: int, user_id: str, *, group_id: int) -> bool:
    """Whether suggestion `number` of the group was given to `user_id`."""
    row = db.get(Suggestion, number) if 0 < number < 2**63 else None
    return row is not None and row.group_id == group_id and may_handle(row, user_id)


def _quote(text: str) -> str:
    line = " ".join(text.split()) or texts.CMD_VOICE_SUGGESTION
    return line if len(line) <= QUOTE_LIMIT else line[: QUOTE_LIMIT - 1] + "…"


def told_message(suggestion: Suggestion, timezone: str) -> OutgoingText | None:
    """What the handler is told, privately where the platform can; None for no member."""
    user_id = suggestion.handler_user_id
    if not user_id or user_id.startswith(PROXY_PREFIX):
        return None
    due = due_text(suggestion.due_at, timezone)
    text = texts.HANDLING_TOLD.format(name=suggestion.handler_name, number=suggestion.id,
                                      author=suggestion.author_name,
                                      quote=_quote(suggestion.text), due=due)
    return OutgoingText(text, private_to=user_id,
                        short=texts.HANDLING_TOLD_SHORT.format(number=suggestion.id, due=due))


async def tell_handler(outbox: Outbox, group: Group, suggestion: Suggestion) -> bool:
    """Tell a member handler of their new item; False when there is nobody in the chat to tell."""
    message = told_message(suggestion, group.timezone)
    if message is None:
        return False
    await outbox.send(group.platform, group.chat_id, [message])
    return True


def assigned_answer(suggestion: Suggestion, before: str | None, timezone: str) -> str:
    """What the secretary is told after assigning (and whom to phone)."""
    due = due_text(suggestion.due_at, timezone)
    name = suggestion.handler_name or ""
    text = (texts.HANDLING_ASSIGNED_AGAIN.format(number=suggestion.id, name=name, before=before,
                                                 due=due)
            if before and before != name else
            texts.HANDLING_ASSIGNED.format(number=suggestion.id, name=name, due=due))
    if suggestion.handler_phone:
        text += "\n" + texts.HANDLING_PHONE_ONLY.format(name=name,
                                                        phone=suggestion.handler_phone)
    return text


def todo_text(rows: list[Suggestion], timezone: str, now: datetime) -> str:
    """The answer to /我的待办: each open item with its deadline, overdue ones marked."""
    if not rows:
        return texts.TODO_NONE
    lines = [texts.TODO_HEADING.format(count=len(rows))]
    for row in rows:
        lines.append(texts.TODO_LINE.format(
            number=row.id, text=_quote(row.text), due=due_text(row.due_at, timezone),
            overdue=texts.TODO_OVERDUE if is_overdue(row, now) else ""))
    lines.append(texts.TODO_FOOTER)
    return "\n".join(lines)


def todo_line(rows: list[Suggestion], now: datetime) -> str | None:
    """/我的待办 in one line, for platforms that can only answer in the group."""
    if not rows:
        return None
    overdue = sum(is_overdue(row, now) for row in rows)
    return texts.TODO_SHORT.format(count=len(rows), overdue=overdue)


# --- the daily digest of overdue items ---------------------------------------------------------


def digest_ref(group_id: int, day: date) -> str:
    """The timer ref of one group's digest on one local day: `group:3:2026-12-07`."""
    return f"group:{group_id}:{day.isoformat()}"


def parse_digest_ref(ref: str) -> tuple[int, date]:
    """`group:3:2026-12-07` -> (3, 2026-12-07); ValueError if it is not such a ref."""
    kind, group_id, day = ref.split(":")
    if kind != "group":
        raise ValueError(ref)
    return int(group_id), date.fromisoformat(day)


def next_digest(now: datetime, timezone: str) -> datetime:
    """The next 08:30 in the group's zone after `now`, in UTC."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    at = datetime.combine(local.date(), DIGEST_AT, tzinfo=zone)
    if at <= local:
        at = datetime.combine(local.date() + timedelta(days=1), DIGEST_AT, tzinfo=zone)
    return at.astimezone(ZoneInfo("UTC"))


def _digest_timers(db: Session, group_id: int) -> list[Timer]:
    return list(db.exec(select(Timer).where(
        Timer.kind == DIGEST_KIND, col(Timer.ref).startswith(f"group:{group_id}:"))))


def ensure_digest_timer(db: Session, group: Group, now: datetime) -> Timer | None:
    """The group's next digest armed, unless one is waiting or running already."""
    assert group.id is not None
    waiting = (TimerStatus.PENDING.value, TimerStatus.RUNNING.value)
    if any(timer.status in waiting for timer in _digest_timers(db, group.id)):
        return None
    due = next_digest(now, group.timezone)
    zone = ZoneInfo(group.timezone)
    return add_timer(db, DIGEST_KIND, digest_ref(group.id, due.astimezone(zone).date()), due)


def ensure_digest_timers(db: Session, now: datetime | None = None) -> int:
    """At start: every group with assigned items has its next digest armed; how many added."""
    now = now or utcnow()
    wanted = set(db.exec(select(Suggestion.group_id).where(
        col(Suggestion.assigned_at).is_not(None),
        col(Suggestion.status).in_([s.value for s in OPEN])).distinct()))
    added = 0
    for group_id in wanted:
        group = db.get(Group, group_id)
        if group is not None:
            added += ensure_digest_timer(db, group, now) is not None
    return added


def digest_line(row: Suggestion, timezone: str, now: datetime, *, phone: bool) -> str:
    """One overdue item in a digest; the secretary's copy carries an outside handler's phone."""
    handler = row.handler_name or ""
    if phone and row.handler_phone:
        handler += texts.DIGEST_PHONE.format(phone=row.handler_phone)
    assert row.due_at is not None
    return texts.DIGEST_LINE.format(number=row.id, text=_quote(row.text), handler=handler,
                                    due=due_text(row.due_at, timezone),
                                    days=days_over(row.due_at, now, timezone))


def digests(db: Session, group: Group, now: datetime) -> dict[str, str]:
    """Each recipient's digest: a handler's own overdue items, a secretary's whole group's."""
    assert group.id is not None
    rows = overdue_suggestions(db, now, group_id=group.id)
    if not rows:
        return {}
    out: dict[str, str] = {}
    mine: dict[str, list[Suggestion]] = {}
    for row in rows:
        if row.handler_user_id and not row.handler_user_id.startswith(PROXY_PREFIX):
            mine.setdefault(row.handler_user_id, []).append(row)
    for user_id, own in mine.items():
        lines = [texts.DIGEST_HANDLER_HEADING.format(count=len(own))]
        lines += [digest_line(row, group.timezone, now, phone=False) for row in own]
        lines.append(texts.DIGEST_FOOTER)
        out[user_id] = "\n".join(lines)
    secretaries = db.exec(select(Member.user_id).where(
        Member.group_id == group.id, col(Member.role).in_([r.value for r in SECRETARIES])))
    whole = [texts.DIGEST_GROUP_HEADING.format(group=group.name, count=len(rows))]
    whole += [digest_line(row, group.timezone, now, phone=True) for row in rows]
    for user_id in secretaries:
        out[user_id] = "\n".join(whole)  # the whole list includes their own items
    return out


class OverdueDigest:
    """Sends each group's daily digest of overdue items, privately, when its timer fires."""

    def __init__(self, engine: Engine, outbox: Outbox,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.outbox = outbox
        self.clock = clock

    def handlers(self) -> dict[str, Callable[[Timer], Awaitable[None]]]:
        """Timer kinds this handles, for `Scheduler(timer_handlers=...)`."""
        # A digest found late (after a restart) is still today's news; a stale one is skipped.
        return {DIGEST_KIND: AlwaysDue(self.post), TELL_KIND: AlwaysDue(self.tell)}

    async def post(self, timer: Timer) -> None:
        """Arm the next digest, then send this one to each handler and secretary privately."""
        group_id, _day = parse_digest_ref(timer.ref)
        found = await in_session(self.engine, self._take, group_id, timer)
        if found is None:
            return
        group, letters = found
        adapter = self.outbox.adapters.get(group.platform)
        if adapter is None or not adapter.private_answers:
            # A digest is for the handler and the secretary alone: never into the group.
            log.info("group %s: no private messages on %s, no digest", group_id, group.platform)
            return
        for user_id, text in letters.items():
            try:
                await self.outbox.send(group.platform, group.chat_id, [
                    OutgoingText(text, private_to=user_id, in_group=False)])
            except AdapterError as exc:
                log.warning("group %s: digest to %s not sent: %s", group_id, user_id, exc)
        log.info("group %s: overdue digest sent to %d people", group_id, len(letters))

    def _take(self, db: Session, group_id: int, timer: Timer
              ) -> tuple[Group, dict[str, str]] | None:
        """Claim today's digest by arming the next one (committed before anything is sent):
        a later digest timer is the record that this one was taken, so a run resumed after a
        crash sends nothing twice."""
        if any(t.due_at > timer.due_at for t in _digest_timers(db, group_id)):
            return None
        group = db.get(Group, group_id)
        if group is None or not open_assigned(db, group_id=group_id):
            return None  # nothing left to chase: the next assignment arms the digest again
        now = self.clock()
        due = next_digest(max(now, timer.due_at), group.timezone)
        add_timer(db, DIGEST_KIND,
                  digest_ref(group_id, due.astimezone(ZoneInfo(group.timezone)).date()), due)
        if now - timer.due_at > timedelta(hours=12):
            return None  # yesterday's digest found today: today's own will say it
        return group, digests(db, group, now)

    async def tell(self, timer: Timer) -> None:
        """Tell the handler of an item the command line assigned."""
        number = int(timer.ref.split(":")[1])

        def read(db: Session) -> tuple[Group, Suggestion] | None:
            row = db.get(Suggestion, number)
            group = db.get(Group, row.group_id) if row is not None else None
            return (group, row) if group is not None and row is not None else None

        found = await in_session(self.engine, read)
        if found is not None:
            await tell_handler(self.outbox, *found)


def tell_ref(suggestion: Suggestion) -> str:
    """The timer ref asking the running bot to tell one assignment: `suggestion:12:<when>`."""
    assert suggestion.assigned_at is not None
    return f"suggestion:{suggestion.id}:{int(suggestion.assigned_at.timestamp())}"
