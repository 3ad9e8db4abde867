"""Real pictures for photo tests, made with Pillow, and what the bot kept of them."""

from __future__ import annotations

import io
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.core.db import session
from bot.core.models import Photo

PICTURE_FORMATS = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP", "gif": "GIF"}


def picture(width: int = 1200, height: int = 900, kind: str = "jpg",
            colour: tuple[int, int, int] = (200, 60, 40)) -> bytes:
    """A picture as a phone sends it: real pixels in a real file format."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), colour)
    ImageDraw.Draw(image).rectangle((width // 4, height // 4, width // 2, height // 2),
                                    fill=(20, 20, 200))
    out = io.BytesIO()
    image.save(out, PICTURE_FORMATS[kind])
    return out.getvalue()


def thumbnail_size(path: Path) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as image:
        assert image.format == "JPEG"
        return image.size


def photos(engine: Engine) -> list[Photo]:
    with session(engine) as db:
        return list(db.exec(select(Photo).order_by(col(Photo.id))))


def media_files(folder: Path) -> set[str]:
    """The pictures (not voices) in the media folder."""
    return {p.name for p in folder.iterdir()
            if p.suffix in (".jpg", ".png", ".webp", ".gif") or p.name.endswith(".part")}
