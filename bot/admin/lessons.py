"""Lessons in the console: the library, a lesson's text beside its spoken version, scheduling."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web
from sqlmodel import Session, col, select

from bot import texts
from bot.admin import lesson_recordings
from bot.admin.calendar import describe_rule
from bot.admin.core import (
    Console,
    Viewer,
    console_of,
    field_text,
    form,
    local_time,
    page,
    redirect,
    render,
    whole_number,
    zone_of,
)
from bot.admin.lesson_recordings import lesson_or_404
from bot.core.db import in_session
from bot.core.models import Group, LessonVersion, Role
from bot.domain.lesson_library import (
    TAKEN_IN_MEANWHILE,
    LibraryEntry,
    all_lessons,
    current_lesson,
    entry,
    take_in_folder,
    versions,
)
from bot.domain.voice import engines_for
from lessons.dialect import flavour_pairs
from lessons.library import MAX_BODY_CHARS, Lesson
from lessons.profiles import DEFAULT_PROFILE, PROFILES, SpeechProfile
from scheduler.models import ScheduleKind
from scheduler.schedules import ScheduleError, ScheduleView, add_schedule, list_schedules

CLOCK = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
MODES = ("once", "daily", "weekly", "cron")


@dataclass(frozen=True)
class Voice:
    """A lesson's voice in one profile: ready (with its URL), working, failed or not made yet."""

    profile: SpeechProfile
    state: str
    url: str | None = None


def _profile(name: str | None, lesson: Lesson) -> SpeechProfile:
    return PROFILES.get(name or "") or PROFILES.get(lesson.speech_profile or "") or \
        PROFILES[DEFAULT_PROFILE]


def _job_key(slug: str, profile: str) -> str:
    return f"voice:{slug}:{profile}"


def _ready_urls(console: Console, lesson: Lesson) -> dict[str, str]:
    """Profile name -> /media URL of every voice of `lesson` already in the cache."""
    urls = {}
    for profile in PROFILES.values():
        cached = console.services.voice.cached(lesson, console.services.voice.tune(profile))
        if cached is not None:
            urls[profile.name] = f"/media/{cached.path.name}"
    return urls


async def voices_of(console: Console, lesson: Lesson) -> list[Voice]:
    """Where the voice of `lesson` stands in every profile (the cache is the truth)."""
    urls = await asyncio.to_thread(_ready_urls, console, lesson)
    voices = []
    for profile in PROFILES.values():
        key = _job_key(lesson.slug, profile.name)
        if profile.name in urls:
            voices.append(Voice(profile, "ready", urls[profile.name]))
        elif console.jobs.running(key):
            voices.append(Voice(profile, "working"))
        else:
            voices.append(Voice(profile, "failed" if key in console.jobs.tasks else "none"))
    return voices


def side_by_side(console: Console, lesson: Lesson, profile: SpeechProfile
                 ) -> list[tuple[str, str]]:
    """Each sentence as posted beside the words the voice says for `profile`."""
    voice = console.services.voice
    flavoured = voice.flavoured and profile.flavour
    return flavour_pairs(lesson.plain_text, profile.name if flavoured else DEFAULT_PROFILE,
                         voice.flavourer)


@page(Role.FACILITATOR)
async def library(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Every lesson in the library, newest first, with broken files and conflicts named."""
    console = console_of(request)
    folder = console.settings.lessons_dir
    show_archived = request.query.get("archived") == "1"

    def read(db: Session) -> tuple[list[LibraryEntry], list[ScheduleView]]:
        entries = [e for e in all_lessons(db, folder, archived=show_archived)
                   if e.archived == show_archived]
        return entries, list_schedules(db)

    try:
        problems = await in_session(console.services.engine, take_in_folder, folder)
    except TAKEN_IN_MEANWHILE:
        problems = []  # another page or post took the files in at the same moment
    entries, views = await in_session(console.services.engine, read)
    next_due: dict[str, datetime] = {}
    for view in views:
        if view.next_due is not None:
            known = next_due.get(view.lesson_slug)
            next_due[view.lesson_slug] = min(known, view.next_due) if known else view.next_due
    return render(request, viewer, "admin/lessons.html", entries=entries[::-1],
                  problems=problems, next_due=next_due, show_archived=show_archived,
                  conflicts=[e.lesson for e in entries if e.conflict])


@page(Role.FACILITATOR)
async def lesson_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """One lesson: its text beside the spoken version, a player per profile, a schedule form."""
    console = console_of(request)
    lesson = await lesson_or_404(console, request.match_info["slug"])
    chosen = _profile(request.query.get("profile"), lesson)
    pairs = await asyncio.to_thread(side_by_side, console, lesson, chosen)
    voice = console.services.voice
    spoken = await asyncio.to_thread(voice.spoken, lesson, voice.tune(chosen))
    voices = await voices_of(console, lesson)

    def read(db: Session) -> tuple[list[Group], list[ScheduleView], LibraryEntry | None,
                                   list[LessonVersion]]:
        return (list(db.exec(select(Group).order_by(col(Group.name)))),
                [v for v in list_schedules(db) if v.lesson_slug == lesson.slug],
                entry(db, console.settings.lessons_dir, lesson.slug),
                versions(db, lesson.slug))

    groups, views, state, history = await in_session(console.services.engine, read)
    names = {group.id: group.name for group in groups}
    schedules = [(v, "、".join(names.get(g, str(g)) for g in v.group_ids),
                  describe_rule(v.kind, v.rule if v.kind == ScheduleKind.CRON else None))
                 for v in views]
    recording = await lesson_recordings.recording_section(console, lesson.slug)
    return render(request, viewer, "admin/lessons_detail.html", lesson=lesson, chosen=chosen,
                  profiles=list(PROFILES.values()), pairs=pairs, spoken=spoken, voices=voices,
                  groups=groups, schedules=schedules, state=state, versions=history,
                  origins=texts.LESSON_ORIGINS, max_chars=MAX_BODY_CHARS,
                  engines={name: engines_for(console.settings, name) for name in PROFILES},
                  working=any(v.state == "working" for v in voices), **recording)


@page(Role.FACILITATOR)
async def make_voice(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Start rendering a lesson's voice in one profile, in the background."""
    console = console_of(request)
    lesson = await lesson_or_404(console, request.match_info["slug"])
    profile = PROFILES.get(field_text(await form(request), "profile"))
    if profile is None:
        raise redirect(f"/admin/lessons/{lesson.slug}", texts.ADMIN_VOICE_BAD_PROFILE,
                       error=True)
    ready = {v.profile.name for v in await voices_of(console, lesson) if v.state == "ready"}
    if profile.name not in ready:
        voice = console.services.voice
        console.jobs.start(_job_key(lesson.slug, profile.name),
                           voice.render(lesson, voice.tune(profile)))
    raise redirect(f"/admin/lessons/{lesson.slug}#voices",
                   texts.ADMIN_VOICE_STARTED.format(profile=profile.name))


@page(Role.FACILITATOR)
async def voice_status(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """The state of every profile's voice, for the page's small polling script."""
    console = console_of(request)
    lesson = await lesson_or_404(console, request.match_info["slug"])
    return web.json_response({v.profile.name: {"state": v.state, "url": v.url}
                              for v in await voices_of(console, lesson)})


def _rule(mode: str, day: str, clock: str, weekday: str, cron: str, zone: str,
          ) -> tuple[datetime | None, str | None]:
    """(run_at, cron) from the schedule form; ScheduleError with a Chinese message if unclear."""
    if mode == "cron":
        if not cron:
            raise ScheduleError(texts.ADMIN_SCHEDULE_NO_CRON)
        return None, cron
    found = CLOCK.fullmatch(clock)
    if found is None:
        raise ScheduleError(texts.ADMIN_SCHEDULE_BAD_TIME)
    hour, minute = int(found[1]), int(found[2])
    if mode == "daily":
        return None, f"{minute} {hour} * * *"
    if mode == "weekly":
        if weekday not in {str(d) for d in range(7)}:
            raise ScheduleError(texts.ADMIN_SCHEDULE_BAD_WEEKDAY)
        return None, f"{minute} {hour} * * {weekday}"
    try:
        local = datetime.strptime(f"{day} {hour:02d}:{minute:02d}", "%Y-%m-%d %H:%M")
    except ValueError as exc:
        raise ScheduleError(texts.ADMIN_SCHEDULE_BAD_DATE) from exc
    return local.replace(tzinfo=zone_of(zone)), None


@page(Role.FACILITATOR)
async def schedule(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Schedule the lesson to the chosen groups, once or repeatedly."""
    console = console_of(request)
    lesson = await lesson_or_404(console, request.match_info["slug"])
    back = f"/admin/lessons/{lesson.slug}"
    data = await form(request)
    ids = [n for n in (whole_number(v) for v in data.getall("group", []) if isinstance(v, str))
           if n is not None]
    mode = field_text(data, "mode")
    if mode not in MODES:
        mode = "once"
    now = console.services.clock()

    def schedule(db: Session) -> tuple[list[Group], datetime | None]:
        if current_lesson(db, console.settings.lessons_dir, lesson.slug) is None:
            raise ScheduleError(texts.ADMIN_LESSON_ARCHIVED_NO_SCHEDULE)
        groups = list(db.exec(select(Group).where(col(Group.id).in_(ids)))) if ids else []
        if not groups:
            raise ScheduleError(texts.ADMIN_SCHEDULE_NO_GROUPS)
        run_at, cron = _rule(mode, field_text(data, "date"), field_text(data, "time"),
                             field_text(data, "weekday"), field_text(data, "cron", 100),
                             groups[0].timezone)
        add_schedule(db, lesson.slug, [(g.id, g.timezone) for g in groups if g.id],
                     run_at=run_at, cron=cron, now=now)
        return groups, run_at

    try:
        groups, run_at = await in_session(console.services.engine, schedule)
    except ScheduleError as exc:
        raise redirect(back + "#schedule", str(exc), error=True) from exc
    await console.services.scheduler.rearm()
    when = (local_time(run_at, groups[0].timezone, now=now) if run_at
            else texts.ADMIN_SCHEDULE_REPEATING)
    raise redirect(back, texts.ADMIN_SCHEDULED.format(
        title=lesson.title, groups="、".join(g.name for g in groups), when=when))


def routes(router: web.UrlDispatcher) -> None:
    """Register the lesson pages."""
    router.add_get("/admin/lessons", library)
    router.add_get("/admin/lessons/{slug}", lesson_page)
    router.add_post("/admin/lessons/{slug}/voice", make_voice)
    router.add_get("/admin/lessons/{slug}/voice", voice_status)
    router.add_post("/admin/lessons/{slug}/schedule", schedule)
