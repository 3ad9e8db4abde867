"""Photos kept for suggestions: read whole, thumbnailed, kept once, counted per day; Pillow is
loaded only when a picture arrives."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.core.db import session
from bot.core.models import Group, PhotoKind, Suggestion
from bot.domain.photos import PhotoError, attach_photo, examine
from tests.support.photos import photos, picture, thumbnail_size

# Evening in the village (Asia/Shanghai): 12:00 UTC is 20:00 there.
EVENING = datetime(2026, 5, 1, 12, tzinfo=UTC)


def suggestion(engine: Engine, handler: str | None = None) -> int:
    with session(engine) as db:
        group = Group(platform="web", chat_id="v", name="枫树村")
        db.add(group)
        db.flush()
        assert group.id is not None
        row = Suggestion(group_id=group.id, platform="web", chat_id="v", message_id="1",
                         author_id="zhang", author_name="张大爷", text="修路",
                         handler_user_id=handler)
        db.add(row)
        db.flush()
        assert row.id is not None
        return row.id


def kept(tmp_path: Path, data: bytes, name: str = "a" * 32 + ".jpg") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def attach(engine: Engine, number: int, path: Path, who: str = "zhang", per_day: int = 10,
           now: datetime = EVENING) -> tuple[PhotoKind, bool]:
    with session(engine) as db:
        done = attach_photo(db, suggestion_id=number, picture=examine(path), uploader_id=who,
                            uploader_name=who, message_id=None, timezone="Asia/Shanghai",
                            per_day=per_day, now=now)
        db.commit()
        return done.photo.kind, done.created


def test_a_picture_is_measured_and_thumbnailed_in_its_own_proportions(tmp_path: Path) -> None:
    for width, height, kind, thumb in ((4000, 3000, "jpg", (320, 240)),
                                       (300, 900, "png", (107, 320)),
                                       (200, 100, "gif", (200, 100))):  # small ones stay small
        shot = examine(kept(tmp_path, picture(width, height, kind), f"{width:032x}.{kind}"))
        assert (shot.width, shot.height) == (width, height)
        assert thumbnail_size(shot.thumb) == thumb
        assert shot.thumb.parent == tmp_path and shot.thumb.name != shot.path.name


def test_a_picture_pillow_cannot_read_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PhotoError, match="打不开"):
        examine(kept(tmp_path, picture(600, 400)[:300]))
    assert [p.name for p in tmp_path.iterdir()] == ["a" * 32 + ".jpg"]  # no thumbnail made


def test_the_same_picture_from_the_same_member_is_kept_once(engine: Engine, tmp_path: Path
                                                            ) -> None:
    number = suggestion(engine)
    data = picture(500, 500)
    assert attach(engine, number, kept(tmp_path, data, "1" * 32 + ".jpg")) == (
        PhotoKind.RAISED, True)
    assert attach(engine, number, kept(tmp_path, data, "2" * 32 + ".jpg"))[1] is False
    assert attach(engine, number, kept(tmp_path, data, "3" * 32 + ".jpg"), who="li")[1] is True
    assert len(photos(engine)) == 2


def test_the_handlers_picture_is_the_done_photo(engine: Engine, tmp_path: Path) -> None:
    number = suggestion(engine, handler="wang")
    assert attach(engine, number, kept(tmp_path, picture(400, 300)), who="wang") == (
        PhotoKind.DONE, True)


def test_the_daily_number_counts_in_the_groups_day(engine: Engine, tmp_path: Path) -> None:
    number = suggestion(engine)
    for shade in (10, 130):
        attach(engine, number, kept(tmp_path, picture(300, 300, colour=(shade, 0, 0)),
                                    f"{shade:032x}.jpg"), per_day=2)
    third = kept(tmp_path, picture(300, 300, colour=(250, 0, 0)), "f" * 32 + ".jpg")
    with pytest.raises(PhotoError, match="今天已经收了您 2 张照片"):
        attach(engine, number, third, per_day=2)
    # After midnight in the village (16:00 UTC is 00:00 in Shanghai) a new day's number.
    assert attach(engine, number, third, per_day=2, now=EVENING + timedelta(hours=4))[1]


LOADS_LAZILY = """
import json, sys
import bot.app, bot.chat.commands, bot.admin, bot.cli.main, bot.reports
print(json.dumps({"idle": "PIL" in sys.modules}))
"""


def test_pillow_is_not_loaded_by_an_idle_bot() -> None:
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", LOADS_LAZILY], cwd=root, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"idle": False}
