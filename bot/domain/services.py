"""The services every face works with, built once by the app: storage, sending, lessons, talks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine

from bot.core.adapter import SharedMedia
from bot.domain.limits import WebChatCaps
from bot.domain.nighttalks import NightTalkHost
from bot.domain.photos import PhotoRules
from bot.domain.points import PointsRules
from bot.domain.posting import LessonPoster
from bot.domain.transcripts import Transcripts
from bot.domain.voice import LessonVoice
from bot.outbox import Outbox
from bot.outbox.replies import Replies
from scheduler.dbtypes import utcnow
from scheduler.service import Scheduler


@dataclass
class Services:
    """What chat commands and console pages may use beyond their request."""

    engine: Engine
    outbox: Outbox
    voice: LessonVoice
    poster: LessonPoster
    talks: NightTalkHost
    scheduler: Scheduler  # re-armed after something new is due; retries a failed delivery
    replies: Replies  # the bot's answers to chat messages, kept until sent
    rules: PointsRules = field(default_factory=PointsRules)
    clock: Callable[[], datetime] = utcnow
    webchat_caps: WebChatCaps = field(default_factory=WebChatCaps)  # what web members earn a day
    photos: PhotoRules = field(default_factory=PhotoRules)  # where photos go, how many a day
    handler_days: int = 7  # an assigned suggestion's deadline when none is typed
    public_url: str = ""  # where members' phones reach the bot (the public ledger's links)
    transcripts: Transcripts | None = None  # voice suggestions' machine transcripts, if set up
    media: SharedMedia | None = None  # received and made files kept for every instance
