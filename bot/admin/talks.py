"""Console pages for night talks: schedule, confirm, open, close, cancel; series; live list."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from aiohttp import web
from sqlmodel import Session

from bot import texts
from bot.admin.core import CONSOLE, Viewer, field_text, form, page, redirect, render
from bot.admin.suggestions import actor
from bot.core.db import in_session
from bot.core.models import Group, NightTalk, NightTalkStatus, Role, Suggestion
from bot.domain.attendance import attendees, participants, participants_line
from bot.domain.board import (
    groups,
    recent_talks,
    room_url,
    talk_counts,
    talk_size,
    talk_suggestions_after,
)
from bot.domain.nighttalks import NightTalkError, schedule_night_talk
from bot.domain.suggestions import CATEGORIES, STATUS_LABELS, SuggestionError
from bot.domain.talk_drafts import list_drafts, list_series, series_next
from bot.domain.talk_series import repeat_note, repeat_of, rhythm_text
from bot.domain.talk_texts import local_zone, when_text
from bot.domain.transcripts import settle_machine_text
from bot.reports.rows import voice_link

log = logging.getLogger(__name__)

BASE = "/admin/talks"
POLL_SECONDS = 3
FIELDS = ("group", "date", "start", "end", "topic", "place", "host")

Step = Callable[..., Awaitable[NightTalk]]


class FormProblem(ValueError):
    """A schedule form that cannot be read; the message is Chinese and shown above the form."""


def _talk_id(request: web.Request) -> int:
    text = request.match_info["talk"]
    if not text.isdigit() or len(text) > 9:
        raise web.HTTPNotFound(text=texts.ADMIN_TALK_NOT_FOUND)
    return int(text)


def _clock(text: str) -> time:
    try:
        return time.fromisoformat(text.strip())
    except ValueError as exc:
        raise FormProblem(texts.ADMIN_TALK_BAD_TIME.format(text=text)) from exc


def talk_times(day_text: str, start_text: str, end_text: str, timezone: str
               ) -> tuple[datetime, datetime | None]:
    """The talk's start and end in UTC from the form's local date and times.

    An end earlier than the start is taken to be after midnight.
    """
    try:
        day = date.fromisoformat(day_text.strip())
    except ValueError as exc:
        raise FormProblem(texts.ADMIN_TALK_BAD_DATE.format(text=day_text)) from exc
    zone = local_zone(timezone)
    starts = datetime.combine(day, _clock(start_text), zone)
    if not end_text.strip():
        return starts.astimezone(UTC), None
    ends = datetime.combine(day, _clock(end_text), zone)
    if ends <= starts:
        ends = datetime.combine(day + timedelta(days=1), ends.timetz())
    return starts.astimezone(UTC), ends.astimezone(UTC)


def _describe(talk: NightTalk, group: Group | None, count: int, now: datetime
              ) -> dict[str, Any]:
    timezone = group.timezone if group else "Asia/Shanghai"
    return {"id": talk.id, "topic": talk.topic, "place": talk.place, "host": talk.host,
            "group": group.name if group else "", "status": talk.status.value,
            "status_label": texts.NIGHT_STATUS_LABELS[talk.status.value],
            "when": when_text(talk.starts_at, timezone, now),
            "until": when_text(talk.ends_at, timezone, now), "count": count,
            "room_url": room_url(group)}


def _item(row: Suggestion) -> dict[str, Any]:
    """A suggestion as the live list shows it (also its JSON for the poll)."""
    return {"number": row.id, "author": row.author_name, "raised_by": row.raised_by_name or "",
            "text": row.text + (texts.TRANSCRIPT_MARK if row.machine_text else ""),
            "voice_url": voice_link(row.voice_path),
            "category": CATEGORIES.get(row.category, (row.category,))[0],
            "status": STATUS_LABELS[row.status], "merged": row.merged_into is not None,
            "machine": row.machine_text, "words": row.text,
            "url": f"/admin/suggestions/{row.id}"}


def _list_context(db: Session, now: datetime) -> dict[str, Any]:
    talks = [t for t in recent_talks(db) if t.status != NightTalkStatus.DRAFT]
    counts = talk_counts(db, [t.id for t in talks if t.id is not None])
    group_list = groups(db)
    by_id = {g.id: g for g in group_list}
    drafts = [_describe(t, by_id.get(t.group_id), 0, now) | {"repeats": repeat_note(db, t)}
              for t in list_drafts(db, now)]
    series = []
    for one in list_series(db):
        group = by_id.get(one.group_id)
        coming = series_next(db, one.id or 0)
        series.append({"id": one.id, "topic": one.topic, "group": group.name if group else "",
                       "rhythm": rhythm_text(repeat_of(one)),
                       "next": when_text(coming.starts_at, group.timezone if group
                                         else "Asia/Shanghai", now) if coming else "",
                       "next_id": coming.id if coming else None})
    return {"talks": [_describe(t, by_id.get(t.group_id), counts.get(t.id or 0, 0), now)
                      for t in talks], "groups": group_list, "drafts": drafts, "series": series}


@page(Role.FACILITATOR)
async def list_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Night talks to come and past ones, and the form to schedule one."""
    console = request.app[CONSOLE]
    context = await in_session(console.services.engine, _list_context,
                               console.services.clock())
    values = dict.fromkeys(FIELDS, "") | {"host": viewer.user.display_name}
    return render(request, viewer, "admin/talks.html", values=values, error=None, base=BASE,
                  **context)


def _schedule(db: Session, data: Mapping[str, str], created_by: str, now: datetime
              ) -> NightTalk:
    group_text = data.get("group", "").strip()
    group = db.get(Group, int(group_text)) if group_text.isdigit() else None
    if group is None:
        raise FormProblem(texts.ADMIN_TALK_PICK_GROUP)
    starts, ends = talk_times(data.get("date", ""), data.get("start", ""),
                              data.get("end", ""), group.timezone)
    return schedule_night_talk(db, group=group, topic=data.get("topic", ""), starts_at=starts,
                               ends_at=ends, place=data.get("place", "").strip() or group.hamlet,
                               host=data.get("host", ""), created_by=created_by, now=now)


@page(Role.FACILITATOR)
async def schedule_action(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Schedule a talk from the form; the group gets the announcement at once."""
    console = request.app[CONSOLE]
    raw = await form(request)
    data = {name: str(raw.get(name, ""))[:200] for name in FIELDS}
    try:
        talk = await in_session(console.services.engine, _schedule, data,
                                f"console:{viewer.user.username}", console.services.clock())
    except (FormProblem, NightTalkError) as exc:
        context = await in_session(console.services.engine, _list_context,
                                   console.services.clock())
        return render(request, viewer, "admin/talks.html", status=400, values=data,
                      error=str(exc), base=BASE, **context)
    assert talk.id is not None
    log.info("night talk %s scheduled from the console by %s", talk.id, viewer.user.username)
    # A failed post is logged and kept on the announce timer by the host; the talk stands.
    await console.services.talks.announce(talk.id, now=console.services.clock())
    await console.services.scheduler.rearm()
    raise redirect(f"{BASE}/{talk.id}", texts.ADMIN_TALK_SCHEDULED.format(id=talk.id))


def _detail(db: Session, talk_id: int, now: datetime) -> dict[str, Any]:
    talk = db.get(NightTalk, talk_id)
    if talk is None:
        raise web.HTTPNotFound(text=texts.ADMIN_TALK_NOT_FOUND)
    group = db.get(Group, talk.group_id)
    rows = talk_suggestions_after(db, talk_id)
    items = [_item(row) for row in rows]
    repeats = repeat_note(db, talk)
    came = participants(db, talk)
    people = [{"name": row.name, "how": texts.ADMIN_TALK_ATTEND_HOW[row.how]}
              for row in attendees(db, talk_id)]
    return {"talk": _describe(talk, group, len(rows), now), "items": items,
            "came": participants_line(came), "came_people": people, "walk_ins": talk.walk_ins,
            "last": rows[-1].id if rows else 0,
            "live": talk.status == NightTalkStatus.OPEN, "poll_seconds": POLL_SECONDS,
            "can_open": talk.status == NightTalkStatus.SCHEDULED,
            "can_close": talk.status == NightTalkStatus.OPEN,
            "can_cancel": talk.status in (NightTalkStatus.SCHEDULED, NightTalkStatus.DRAFT),
            "can_confirm": talk.status == NightTalkStatus.DRAFT,
            "series_id": talk.series_id if repeats and talk.status != NightTalkStatus.DRAFT
            else None, "repeats": repeats}


@page(Role.FACILITATOR)
async def detail_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """One night talk: its facts, its buttons, and its suggestions (live while it is open)."""
    console = request.app[CONSOLE]
    context = await in_session(console.services.engine, _detail, _talk_id(request),
                               console.services.clock())
    return render(request, viewer, "admin/talks_detail.html", base=BASE, **context)


@page(Role.FACILITATOR)
async def live_feed(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """JSON for the live list: the talk's status and its suggestions after `after`."""
    talk_id = _talk_id(request)
    after_text = request.query.get("after", "0")
    after = int(after_text) if after_text.isdigit() and len(after_text) <= 9 else 0

    def read(db: Session) -> tuple[NightTalk, list[Suggestion], int]:
        talk = db.get(NightTalk, talk_id)
        if talk is None:
            raise web.HTTPNotFound(text=texts.ADMIN_TALK_NOT_FOUND)
        return talk, talk_suggestions_after(db, talk_id, after), talk_size(db, talk_id)

    talk, rows, total = await in_session(request.app[CONSOLE].services.engine, read)
    return web.json_response(
        {"status": talk.status.value, "status_label": texts.NIGHT_STATUS_LABELS[talk.status.value],
         "count": total, "suggestions": [_item(row) for row in rows]},
        headers={"Cache-Control": "no-store"})


def _step_action(step_name: str, done: str) -> Callable[..., Awaitable[web.StreamResponse]]:
    @page(Role.FACILITATOR)
    async def action(request: web.Request, viewer: Viewer) -> web.StreamResponse:
        talk_id = _talk_id(request)
        await form(request)
        console = request.app[CONSOLE]
        host = console.services.talks
        step: Step = getattr(host, step_name)
        try:
            await step(talk_id, now=console.services.clock())
        except NightTalkError as exc:
            raise redirect(f"{BASE}/{talk_id}", str(exc), error=True) from exc
        log.info("night talk %s: %s from the console by %s", talk_id, step_name,
                 viewer.user.username)
        await console.services.scheduler.rearm()
        raise redirect(f"{BASE}/{talk_id}", done.format(id=talk_id))

    return action


@page(Role.FACILITATOR)
async def transcript_action(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """A facilitator confirms (确认无误) or corrects the machine transcript of a voice raised
    in this talk; the mark goes and the suggestion's history says who did it."""
    talk_id = _talk_id(request)
    number_text = request.match_info["number"]
    if not number_text.isdigit() or len(number_text) > 9:
        raise web.HTTPNotFound(text=texts.ADMIN_TALK_NOT_FOUND)
    number = int(number_text)
    data = await form(request)
    text = field_text(data, "text") if field_text(data, "action", 20) == "correct" else None
    console = request.app[CONSOLE]
    actor_id, actor_name = actor(viewer)

    def settle(db: Session) -> None:
        row = db.get(Suggestion, number)
        if row is None or row.night_talk_id != talk_id:
            raise SuggestionError(texts.SUGGESTION_NOT_FOUND.format(number=number))
        settle_machine_text(db, number, text=text, actor_id=actor_id, actor_name=actor_name,
                            now=console.services.clock())

    try:
        await in_session(console.services.engine, settle)
    except SuggestionError as exc:
        raise redirect(f"{BASE}/{talk_id}", str(exc), error=True) from exc
    done = texts.ADMIN_TRANSCRIPT_CONFIRMED if text is None else texts.ADMIN_TRANSCRIPT_CORRECTED
    raise redirect(f"{BASE}/{talk_id}", done.format(number=number))


def _series_id(request: web.Request) -> int:
    text = request.match_info["series"]
    if not text.isdigit() or len(text) > 9:
        raise web.HTTPNotFound(text=texts.ADMIN_TALK_NOT_FOUND)
    return int(text)


@page(Role.FACILITATOR)
async def end_series_action(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Stop a repeating night talk: its coming talk is called off, no more are put on."""
    series_id = _series_id(request)
    await form(request)
    console = request.app[CONSOLE]
    try:
        await console.services.talks.end_series(series_id, now=console.services.clock())
    except NightTalkError as exc:
        raise redirect(BASE, str(exc), error=True) from exc
    log.info("night-talk series %s ended from the console by %s", series_id,
             viewer.user.username)
    await console.services.scheduler.rearm()
    raise redirect(BASE, texts.ADMIN_TALK_SERIES_ENDED)


def routes(router: web.UrlDispatcher) -> None:
    """Register the night-talk pages and actions."""
    router.add_get(BASE, list_page)
    router.add_post(BASE, schedule_action)
    router.add_get(BASE + "/{talk}", detail_page)
    router.add_get(BASE + "/{talk}/live", live_feed)
    router.add_post(BASE + "/{talk}/open", _step_action("open", texts.ADMIN_TALK_OPENED))
    router.add_post(BASE + "/{talk}/close", _step_action("close", texts.ADMIN_TALK_CLOSED))
    router.add_post(BASE + "/{talk}/cancel", _step_action("cancel", texts.ADMIN_TALK_CANCELLED))
    router.add_post(BASE + "/{talk}/confirm",
                    _step_action("confirm", texts.ADMIN_TALK_CONFIRMED))
    router.add_post(BASE + "/series/{series}/end", end_series_action)
    router.add_post(BASE + "/{talk}/transcript/{number}", transcript_action)
