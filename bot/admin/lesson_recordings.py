"""The 主讲人录音 section of a lesson's page: upload or record the speaker's voice, remove it."""

from __future__ import annotations

import logging
import re
import tempfile
from typing import IO, Any

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from bot import texts
from bot.admin.auth import tokens_match
from bot.admin.core import Console, Viewer, console_of, page, redirect, render, viewer_of
from bot.core.db import in_session
from bot.core.models import Role
from bot.core.roles import allows
from bot.domain.recordings import (
    MAX_RECORDING_BYTES,
    RecordingError,
    RecordingView,
    format_duration,
    recordings_of,
    too_big,
)
from lessons.library import Lesson

log = logging.getLogger(__name__)

SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,100}")
FILE_FIELD = "audio"
_CHUNK = 256 * 1024
_FIELD_LIMIT = 1024


class CsrfRefused(Exception):
    """The upload did not carry the session's CSRF token before its file."""


async def lesson_or_404(console: Console, slug: str) -> Lesson:
    """The lesson (archived ones too: their page brings them back), or 404."""
    lesson = await console.services.voice.find_lesson(slug, archived=True) \
        if SLUG.fullmatch(slug) else None
    if lesson is None:
        raise web.HTTPNotFound()
    return lesson


async def recording_section(console: Console, slug: str) -> dict[str, Any]:
    """What the lesson page shows of its recordings: the current one and the earlier ones."""
    views = await in_session(console.services.engine, recordings_of, slug)
    current = next((v for v in views if v.removed_at is None), None)
    # Written out from the database if this instance has not served it yet, for the player.
    speech = await console.services.voice.recording(slug) if current else None
    return {"recording": current,
            "recording_url": f"/media/{speech.path.name}" if speech else None,
            "recording_history": [v for v in views if v is not current],
            "recording_max_mb": MAX_RECORDING_BYTES // (1024 * 1024),
            "recording_duration": format_duration}


async def _receive(request: web.Request, viewer: Viewer, spool: IO[bytes]) -> str:
    """Stream the form's file into `spool` (at most MAX_RECORDING_BYTES) and return its name;
    the CSRF token must come first (a field, or the X-CSRF-Token header of the page's script)."""
    token_ok = tokens_match(viewer.csrf_token, request.headers.get("X-CSRF-Token"))
    name: str | None = None
    try:
        async for part in await request.multipart():
            if not isinstance(part, BodyPartReader):
                raise RecordingError(400, texts.RECORDING_NO_FILE)
            if part.name == "csrf_token":
                given = (await part.read_chunk(_FIELD_LIMIT)).decode(errors="replace")
                token_ok = token_ok or tokens_match(viewer.csrf_token, given)
                continue
            if part.name != FILE_FIELD or name is not None:
                await part.release()
                continue
            if not token_ok:
                raise CsrfRefused
            name = part.filename or texts.RECORDING_BROWSER_NAME
            size = 0
            while chunk := await part.read_chunk(_CHUNK):
                size += len(chunk)
                if size > MAX_RECORDING_BYTES:
                    raise too_big()
                spool.write(chunk)
    except (AssertionError, ValueError, HttpProcessingError) as exc:
        # aiohttp's multipart reader says "malformed" with any of these.
        raise RecordingError(400, texts.RECORDING_NO_FILE) from exc
    if not token_ok:
        raise CsrfRefused
    if name is None or not spool.tell():
        raise RecordingError(400, texts.RECORDING_NO_FILE)
    return name


async def upload(request: web.Request) -> web.StreamResponse:
    """Take an uploaded or browser-recorded file as the lesson's voice.

    Guarded by hand rather than with @page: the file may be far larger than the console's
    2 MB form limit, so it is streamed to a temporary file instead of read as a form."""
    viewer = await viewer_of(request)
    if viewer is None:
        raise web.HTTPFound("/admin/login")
    if not allows(viewer.role, Role.FACILITATOR):
        return render(request, viewer, "admin/forbidden.html", status=403,
                      heading=texts.ADMIN_FORBIDDEN_TITLE, message=texts.ADMIN_FORBIDDEN_TEXT)
    console = console_of(request)
    lesson = await lesson_or_404(console, request.match_info["slug"])
    back = f"/admin/lessons/{lesson.slug}#recording"
    from_script = "application/json" in request.headers.get("Accept", "")
    if (request.content_length or 0) > MAX_RECORDING_BYTES + 64 * 1024:
        return _refused(request, viewer, too_big(), from_script, back)
    voice = console.services.voice
    try:
        with tempfile.TemporaryFile(dir=console.settings.data_dir) as spool:
            name = await _receive(request, viewer, spool)
            speech, paragraphs = await voice.keep_recording(
                lesson, spool, original_name=name, uploaded_by=viewer.user.display_name)
    except CsrfRefused:
        log.warning("recording upload for %s refused: missing or wrong CSRF token", lesson.slug)
        return render(request, viewer, "admin/forbidden.html", status=403,
                      heading=texts.ADMIN_CSRF_TITLE, message=texts.ADMIN_CSRF_TEXT)
    except RecordingError as exc:
        log.info("recording for %s refused (%s): %s", lesson.slug, exc.status, exc.message)
        return _refused(request, viewer, exc, from_script, back)
    log.info("recording for %s stored by %s: %.1f s", lesson.slug, viewer.user.username,
             speech.duration_s)
    # Every platform's format now, in the background, so the first posting does not wait.
    console.jobs.start(f"recording:{speech.path.stem}",
                       console.services.poster.prepare_formats(speech))
    message = texts.RECORDING_SAVED.format(duration=format_duration(speech.duration_s),
                                           paragraphs=paragraphs)
    if from_script:
        return web.json_response({"message": message})
    raise redirect(back, message)


def _refused(request: web.Request, viewer: Viewer, error: RecordingError, from_script: bool,
             back: str) -> web.StreamResponse:
    if from_script:
        return web.json_response({"error": error.message}, status=error.status)
    return render(request, viewer, "admin/recording_refused.html", status=error.status,
                  heading=texts.RECORDING_REFUSED_TITLE, message=error.message, back=back)


@page(Role.FACILITATOR)
async def remove(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Retire the lesson's recording; its voice is synthesized again."""
    console = console_of(request)
    lesson = await lesson_or_404(console, request.match_info["slug"])
    removed: RecordingView | None = await console.services.voice.drop_recording(
        lesson.slug, removed_by=viewer.user.display_name)
    back = f"/admin/lessons/{lesson.slug}#recording"
    if removed is None:
        raise redirect(back, texts.RECORDING_NONE, error=True)
    raise redirect(back, texts.RECORDING_REMOVED)


def routes(router: web.UrlDispatcher) -> None:
    """Register the recording routes of a lesson."""
    router.add_post("/admin/lessons/{slug}/recording", upload)
    router.add_post("/admin/lessons/{slug}/recording/remove", remove)
