"""Photos on suggestions: a received picture measured, thumbnailed and attached, once.

Adapters save a received picture as it came, checked by its first bytes; here Pillow reads it
whole (imported only when a photo arrives, so an idle bot never loads it), a small JPEG
thumbnail is written beside it, and a `Photo` row ties both to a suggestion. The same picture
from the same member on the same suggestion is kept once; each member attaches at most
`per_day` photos a day in the group's time.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot import texts
from bot.core.models import ChatMessage, Photo, PhotoKind, Suggestion
from bot.domain.limits import day_start

THUMB_PX = 320  # the thumbnail's longer side
MAX_PIXELS = 40_000_000  # a real phone photo is under 20 MP; more is a decompression bomb
CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp",
                 "GIF": "image/gif"}


class PhotoError(Exception):
    """A photo not attached; the message (Chinese) tells the member why."""


@dataclass(frozen=True, slots=True)
class PhotoRules:
    """How many photos one member may attach a day (0: no limit)."""

    per_day: int = 10


@dataclass(frozen=True, slots=True)
class Picture:
    """A received picture as Pillow read it, with its thumbnail written beside it."""

    path: Path
    thumb: Path
    content_type: str
    size_bytes: int
    width: int
    height: int
    sha256: str


def examine(path: Path) -> Picture:
    """Read the picture at `path` whole and write its thumbnail (blocking: run it in a thread);
    PhotoError if it is no picture Pillow can read."""
    from PIL import Image, UnidentifiedImageError

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PhotoError(texts.PHOTO_UNREADABLE) from exc
    try:
        with Image.open(path) as image:
            kind = image.format or ""
            width, height = image.size
            if kind not in CONTENT_TYPES or width * height > MAX_PIXELS:
                raise PhotoError(texts.PHOTO_NOT_A_PICTURE)
            image.load()
            image.thumbnail((THUMB_PX, THUMB_PX))
            small = image.convert("RGB")
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError, SyntaxError,
            ValueError) as exc:
        raise PhotoError(texts.PHOTO_UNREADABLE) from exc
    thumb = path.parent / f"{secrets.token_hex(16)}.jpg"
    partial = path.parent / f".{thumb.name}.part"
    try:
        small.save(partial, "JPEG", quality=80)
        partial.replace(thumb)
    except OSError as exc:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise PhotoError(texts.PHOTO_NOT_SAVED) from exc
    return Picture(path=path, thumb=thumb, content_type=CONTENT_TYPES[kind],
                   size_bytes=len(data), width=width, height=height,
                   sha256=hashlib.sha256(data).hexdigest())


def discard(*paths: Path | None) -> None:
    """Remove files that are not kept (a stray picture, a thumbnail made for nothing)."""
    for path in paths:
        if path is not None:
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)


@dataclass(frozen=True, slots=True)
class Attached:
    """What became of a picture: its row, and whether it was new (False: already there)."""

    photo: Photo
    created: bool


def attach_photo(db: Session, *, suggestion_id: int, picture: Picture, uploader_id: str,
                 uploader_name: str, message_id: str | None, timezone: str, per_day: int,
                 now: datetime, done: bool = False) -> Attached:
    """Attach `picture` to the suggestion; a repeat of one already there is kept once. The
    handler's picture, or one sent with 办结 (`done`), is the done work's (PhotoKind.DONE);
    anyone else's shows the problem.

    PhotoError (Chinese) when the suggestion is not there or the member's photos for today are
    used up; the caller then discards the files.
    """
    suggestion = db.get(Suggestion, suggestion_id)
    if suggestion is None:
        raise PhotoError(texts.PHOTO_NO_SUCH_SUGGESTION.format(number=suggestion_id))
    same = db.exec(select(Photo).where(Photo.suggestion_id == suggestion_id,
                                       Photo.uploader_id == uploader_id,
                                       Photo.sha256 == picture.sha256)).first()
    if same is not None:
        return Attached(same, created=False)
    if not photos_left(db, suggestion.group_id, timezone, uploader_id, now, per_day):
        raise PhotoError(texts.PHOTO_TOO_MANY_TODAY.format(limit=per_day))
    kind = PhotoKind.DONE if done or uploader_id == suggestion.handler_user_id \
        else PhotoKind.RAISED
    photo = Photo(group_id=suggestion.group_id, suggestion_id=suggestion_id, kind=kind,
                  path=picture.path.name, thumb_path=picture.thumb.name,
                  content_type=picture.content_type, size_bytes=picture.size_bytes,
                  width=picture.width, height=picture.height, sha256=picture.sha256,
                  uploader_id=uploader_id, uploader_name=uploader_name, message_id=message_id,
                  created_at=now)
    db.add(photo)
    db.flush()
    return Attached(photo, created=True)


def photos_left(db: Session, group_id: int, timezone: str, user_id: str, now: datetime,
                per_day: int) -> bool:
    """Whether the member may still attach a photo today."""
    if not per_day:
        return True
    _today, start = day_start(now, timezone)
    taken = db.exec(select(func.count()).select_from(Photo).where(
        Photo.group_id == group_id, Photo.uploader_id == user_id,
        col(Photo.created_at) >= start)).one()
    return int(taken) < per_day


def photo_kept(db: Session, name: str) -> bool:
    """Whether a received picture is kept: on a suggestion, or in the web chat's history."""
    if db.exec(select(Photo.id).where(Photo.path == name)).first() is not None:
        return True
    return db.exec(select(ChatMessage.id).where(
        col(ChatMessage.image_url).endswith("/" + name))).first() is not None


def suggestion_in_group(db: Session, group_id: int, number: int) -> Suggestion | None:
    """Suggestion number `number` if it belongs to the group."""
    row = db.get(Suggestion, number)
    return row if row is not None and row.group_id == group_id else None


def suggestion_of_message(db: Session, platform: str, chat_id: str, message_id: str
                          ) -> Suggestion | None:
    """The suggestion raised by that platform message, if one was."""
    return db.exec(select(Suggestion).where(Suggestion.platform == platform,
                                            Suggestion.chat_id == chat_id,
                                            Suggestion.message_id == message_id)).first()


def photos_for(db: Session, suggestion_ids: Iterable[int]) -> dict[int, list[Photo]]:
    """The photos of those suggestions, oldest first; suggestions without any are left out."""
    ids = list(suggestion_ids)
    found: dict[int, list[Photo]] = defaultdict(list)
    # Asked in slices: a report of many suggestions stays within the database's parameter cap.
    for start in range(0, len(ids), 500):
        rows = db.exec(select(Photo).where(col(Photo.suggestion_id).in_(ids[start:start + 500]))
                       .order_by(col(Photo.id))).all()
        for row in rows:
            if row.suggestion_id is not None:
                found[row.suggestion_id].append(row)
    return dict(found)
