"""Writing lessons in the console: the form, preview and listen, versions, conflicts, archive."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

from aiohttp import web
from sqlmodel import Session

from bot import texts
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
)
from bot.admin.lesson_recordings import SLUG
from bot.admin.lessons import side_by_side
from bot.core.db import in_session
from bot.core.models import LessonOrigin, LessonVersion, Role
from bot.domain import lesson_library as library
from bot.domain.lesson_library import LessonExists, LessonForm, SavedVersion, StaleSave
from lessons.library import MAX_BODY_CHARS, Lesson
from lessons.profiles import DEFAULT_PROFILE, PROFILES, SpeechProfile

FORM_FIELDS = ("title", "speaker", "date", "tags", "summary", "speech_profile")
RESERVED = frozenset({"new"})  # /admin/lessons/new is the form, not a lesson


def _form_of(data: Any, slug: str) -> LessonForm:
    return LessonForm(slug=slug, body=field_text(data, "body", 4 * MAX_BODY_CHARS),
                      **{name: field_text(data, name, 500) for name in FORM_FIELDS})


def _listen_key(lesson: Lesson, profile: SpeechProfile) -> str:
    return f"listen:{lesson.content_hash[:24]}:{profile.name}"


def _editor(request: web.Request, viewer: Viewer, entry: LessonForm, *, new: bool,
            based_on: int, status: int = 200, **extra: Any) -> web.Response:
    for name in ("error", "note", "pairs", "listen", "lesson"):
        extra.setdefault(name, None)
    chosen = extra.pop("chosen", None) or PROFILES.get(entry.speech_profile) or \
        PROFILES[DEFAULT_PROFILE]
    return render(request, viewer, "admin/lessons_edit.html", status=status, entry=entry,
                  new=new, based_on=based_on, profiles=list(PROFILES.values()), chosen=chosen,
                  fields=texts.ADMIN_LESSON_FIELDS, max_chars=MAX_BODY_CHARS,
                  problems=extra.pop("problems", {}), **extra)


@page(Role.FACILITATOR)
async def new_lesson(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """An empty form for a new lesson."""
    return _editor(request, viewer, LessonForm(slug=""), new=True, based_on=0)


@page(Role.FACILITATOR)
async def edit_lesson(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """The form filled in with a lesson's current version."""
    console = console_of(request)
    entry = await _entry(console, request.match_info["slug"])
    return _editor(request, viewer, LessonForm.of(entry.lesson), new=False,
                   based_on=entry.version, lesson=entry.lesson)


async def _entry(console: Console, slug: str) -> library.LibraryEntry:
    found = await in_session(console.services.engine, library.entry,
                             console.settings.lessons_dir, slug) if SLUG.fullmatch(slug) else None
    if found is None:
        raise web.HTTPNotFound()
    return found


@page(Role.FACILITATOR)
async def submit(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Preview, listen to or save the form; nothing is saved while anything is wrong."""
    console = console_of(request)
    data = await form(request)
    new = "slug" not in request.match_info
    slug = field_text(data, "slug", 100).lower() if new else request.match_info["slug"]
    if not new:
        await _entry(console, slug)  # 404 for a lesson that is not there
    entry = _form_of(data, slug)
    based_on = whole_number(field_text(data, "based_on")) or 0
    action = field_text(data, "action")
    chosen = PROFILES.get(field_text(data, "preview_profile")) or PROFILES.get(
        entry.speech_profile) or PROFILES[DEFAULT_PROFILE]
    # Takes in the lesson's file first: a file changed meanwhile makes this save stale, and a
    # new lesson cannot take the number of a file not yet taken in.
    stored = await console.services.voice.find_lesson(slug, archived=True)
    show: dict[str, Any] = {"chosen": chosen, "lesson": None if new else stored}

    checked = library.check_form(console.settings.lessons_dir, entry)
    problems = dict(checked.problems)
    if new and slug in RESERVED:
        problems.setdefault("slug", []).append(texts.LESSON_SLUG_RESERVED.format(slug=slug))
    if problems or checked.lesson is None:
        count = sum(len(found) for found in problems.values())
        return _editor(request, viewer, entry, new=new, based_on=based_on, status=400,
                       problems=problems, error=texts.ADMIN_LESSON_PROBLEMS.format(count=count),
                       **show)
    lesson = checked.lesson
    if action in ("preview", "listen"):
        pairs = await asyncio.to_thread(side_by_side, console, lesson, chosen)
        listen = None
        if action == "listen":
            voice = console.services.voice
            key = _listen_key(lesson, chosen)
            console.jobs.start(key, voice.synthesize(lesson, voice.tune(chosen)))
            listen = "/admin/lesson-listen/" + quote(key.removeprefix("listen:"))
        note = (texts.ADMIN_LESSON_LISTENING.format(profile=chosen.name) if listen
                else texts.ADMIN_LESSON_PREVIEWED)
        return _editor(request, viewer, entry, new=new, based_on=based_on, pairs=pairs,
                       listen=listen, note=note, **show)
    try:
        version = await in_session(console.services.engine, library.save, lesson,
                                   based_on=based_on, author=viewer.user.display_name, new=new)
    except LessonExists as exc:
        return _editor(request, viewer, entry, new=new, based_on=based_on, status=400,
                       problems={"slug": [str(exc)]},
                       error=texts.ADMIN_LESSON_PROBLEMS.format(count=1), **show)
    except StaleSave as exc:
        return _editor(request, viewer, entry, new=new, based_on=based_on, status=409,
                       error=stale_message(exc.current, console), **show)
    raise redirect(f"/admin/lessons/{slug}", texts.ADMIN_LESSON_SAVED.format(
        title=lesson.title, number=version.number))


def who(version: LessonVersion | SavedVersion) -> str:
    """Who wrote a version, as the console says it."""
    if version.origin == LessonOrigin.FILE:
        return texts.ADMIN_LESSON_FILE_AUTHOR.format(name=version.author)
    return version.author or texts.LESSON_ORIGINS[version.origin]


def stale_message(current: SavedVersion | None, console: Console) -> str:
    """Why a save was refused: who saved which version when."""
    if current is None:
        return texts.ADMIN_LESSON_STALE_UNKNOWN
    return texts.ADMIN_LESSON_STALE.format(
        who=who(current), number=current.number,
        when=local_time(current.created_at, console.settings.timezone))


@page(Role.FACILITATOR)
async def listen_status(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Where a previewed text's voice stands, for the editor's polling script."""
    console = console_of(request)
    key = "listen:" + request.match_info["key"]
    if key not in console.jobs.tasks:
        raise web.HTTPNotFound()
    if console.jobs.running(key):
        return web.json_response({"state": "working", "url": None})
    speech = console.jobs.outcome(key)
    if speech is None:
        return web.json_response({"state": "failed", "url": None})
    return web.json_response({"state": "ready", "url": f"/media/{speech.path.name}"})


@page(Role.FACILITATOR)
async def version_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """One earlier version's text, with a button to make it the newest again."""
    console = console_of(request)
    entry = await _entry(console, request.match_info["slug"])
    number = whole_number(request.match_info["number"])

    def read(db: Session) -> LessonVersion | None:
        return next((v for v in library.versions(db, entry.lesson.slug) if v.number == number),
                    None)

    version = await in_session(console.services.engine, read)
    if version is None:
        raise web.HTTPNotFound()
    return render(request, viewer, "admin/lessons_version.html", lesson=entry.lesson,
                  version=version, current=entry.version, who=who(version),
                  origins=texts.LESSON_ORIGINS)


@page(Role.FACILITATOR)
async def restore_version(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Save an earlier version's text as the newest version."""
    console = console_of(request)
    entry = await _entry(console, request.match_info["slug"])
    number = whole_number(request.match_info["number"]) or 0
    based_on = whole_number(field_text(await form(request), "based_on")) or 0
    back = f"/admin/lessons/{entry.lesson.slug}"
    try:
        version = await in_session(console.services.engine, library.restore,
                                   console.settings.lessons_dir, entry.lesson.slug, number,
                                   based_on=based_on, author=viewer.user.display_name)
    except StaleSave as exc:
        raise redirect(back + "#versions", stale_message(exc.current, console),
                       error=True) from exc
    if version is None:
        raise redirect(back + "#versions", texts.ADMIN_LESSON_NO_VERSION, error=True)
    raise redirect(back, texts.ADMIN_LESSON_RESTORED.format(old=number, number=version.number))


@page(Role.FACILITATOR)
async def settle_conflict(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Choose between the file's and the console's version of a lesson."""
    console = console_of(request)
    entry = await _entry(console, request.match_info["slug"])
    use_file = field_text(await form(request), "keep") == "file"
    settled = await in_session(console.services.engine, library.resolve_conflict,
                               console.settings.lessons_dir, entry.lesson.slug,
                               use_file=use_file)
    back = f"/admin/lessons/{entry.lesson.slug}"
    if not settled:
        raise redirect(back, texts.ADMIN_LESSON_NO_CONFLICT, error=True)
    raise redirect(back, texts.ADMIN_LESSON_USED_FILE if use_file
                   else texts.ADMIN_LESSON_KEPT_CONSOLE)


@page(Role.FACILITATOR)
async def archive(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Archive a lesson (hidden from the library, not schedulable) or bring it back."""
    console = console_of(request)
    entry = await _entry(console, request.match_info["slug"])
    archived = field_text(await form(request), "archived") == "1"
    await in_session(console.services.engine, library.set_archived, entry.lesson.slug, archived)
    message = texts.ADMIN_LESSON_ARCHIVED if archived else texts.ADMIN_LESSON_UNARCHIVED
    raise redirect(f"/admin/lessons/{entry.lesson.slug}",
                   message.format(title=entry.lesson.title))


def routes(router: web.UrlDispatcher) -> None:
    """Register the editor's pages (before the lesson pages: /new is not a lesson)."""
    router.add_get("/admin/lessons/new", new_lesson)
    router.add_post("/admin/lessons/new", submit)
    router.add_get("/admin/lessons/{slug}/edit", edit_lesson)
    router.add_post("/admin/lessons/{slug}/edit", submit)
    router.add_get("/admin/lessons/{slug}/versions/{number}", version_page)
    router.add_post("/admin/lessons/{slug}/versions/{number}/restore", restore_version)
    router.add_post("/admin/lessons/{slug}/conflict", settle_conflict)
    router.add_post("/admin/lessons/{slug}/archive", archive)
    router.add_get("/admin/lesson-listen/{key}", listen_status)

