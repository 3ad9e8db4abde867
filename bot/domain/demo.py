"""First start with an empty database: a demo room and a lesson arriving within a minute."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import func, select

from bot import texts
from bot.core.db import session
from bot.core.models import Group
from lessons.library import LoadResult
from scheduler.dbtypes import utcnow
from scheduler.schedules import add_schedule

log = logging.getLogger(__name__)

DEMO_CHAT_ID = "demo"
DEMO_LESSON = "telecom-fraud"


def seed_demo(engine: Engine, library: LoadResult, *, timezone: str, delay: timedelta,
              now: datetime | None = None) -> str | None:
    """Create the demo group and schedule a sample lesson, once; return the notice to show."""
    now = now or utcnow()
    with session(engine) as db:
        if db.exec(select(func.count()).select_from(Group)).one() > 0:
            return None
        lesson = library.get(DEMO_LESSON) or (library.lessons[0] if library.lessons else None)
        if lesson is None:
            log.warning("demo skipped: the lesson library is empty")
            return None
        group = Group(platform="web", chat_id=DEMO_CHAT_ID, name=texts.DEMO_GROUP_NAME,
                      hamlet=texts.DEMO_GROUP_NAME, timezone=timezone)
        db.add(group)
        db.flush()
        assert group.id is not None
        at = now + delay
        add_schedule(db, lesson.slug, [(group.id, timezone)], run_at=at, now=now)
    local = at.astimezone(ZoneInfo(timezone))
    log.info("demo: group %r created; lesson %r will arrive at %s (in %d s)", group.name,
             lesson.slug, local.strftime("%H:%M:%S"), delay.total_seconds())
    return texts.DEMO_NOTICE.format(title=lesson.title, group=group.name,
                                    time=local.strftime("%H:%M"))
