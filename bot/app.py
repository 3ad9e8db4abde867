"""The one place that wires settings, storage, speech, adapters, outbox and scheduler together."""

from __future__ import annotations

import asyncio
import importlib
import ipaddress
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from functools import partial
from pathlib import Path

from aiohttp import web
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from bot.adapters.forwarded import forwarded_middleware
from bot.adapters.media import Media
from bot.adapters.webchat.adapter import WebChatAdapter
from bot.adapters.webchat.limits import ChatLimits
from bot.admin import setup_admin
from bot.chat.commands import build_router
from bot.chat.ingest import Ingest
from bot.core.adapter import Adapter, Directory, MediaStore
from bot.core.bus import SCHEDULER as SCHEDULER_CHANNEL
from bot.core.bus import Bus, Coalesced, LocalBus
from bot.core.db import Checkpointer, close_pool, in_session, open_database, open_pool, session
from bot.domain.backup import NightlyBackup, arm_nightly_backup
from bot.domain.demo import seed_demo
from bot.domain.directory import GroupDirectory
from bot.domain.handling import OverdueDigest, ensure_digest_timers
from bot.domain.ledger import MonthlyLedger, ensure_monthly_timers
from bot.domain.lesson_library import TAKEN_IN_MEANWHILE, take_in_files
from bot.domain.limits import WebChatCaps
from bot.domain.nighttalks import NightTalkHost
from bot.domain.notices import LeaderboardPoster, ensure_leaderboard_timers
from bot.domain.photos import PhotoRules
from bot.domain.points import PointsRules
from bot.domain.posting import LessonPoster
from bot.domain.retention import VoiceRetention
from bot.domain.services import Services
from bot.domain.shop_receipts import ShopReceipts
from bot.domain.tallies import ListenTallies
from bot.domain.transcripts import Transcripts
from bot.domain.voice import LessonVoice, build_flavour_worker, build_speech, tuned_profile
from bot.domain.webchat import WebChatStore
from bot.outbox import Outbox
from bot.outbox.pacing import Budget
from bot.outbox.replies import Replies
from bot.settings import Settings
from lessons.flavour_worker import FlavourWorker
from lessons.library import LoadResult
from lessons.transcription import Transcriber
from lessons.variants import AudioVariants
from lessons.worker import AUDIO, VOICES
from scheduler.service import Scheduler

log = logging.getLogger(__name__)

# Chat platforms besides the web chat; each module offers load_config() and create_adapter().
PLATFORMS = {
    "telegram": "bot.adapters.telegram.adapter",
    "onebot": "bot.adapters.onebot.adapter",
    "wecom": "bot.adapters.wecom.adapter",
    "dingtalk": "bot.adapters.robots.dingtalk",
    "feishu": "bot.adapters.robots.feishu",
}

SETTINGS = web.AppKey("settings", Settings)
ENGINE = web.AppKey("engine", Engine)
WEBCHAT = web.AppKey("webchat", WebChatAdapter)
OUTBOX = web.AppKey("outbox", Outbox)
POSTER = web.AppKey("poster", LessonPoster)
VOICE = web.AppKey("voice", LessonVoice)
FLAVOUR_WORKER = web.AppKey("flavour_worker", FlavourWorker)
SCHEDULER = web.AppKey("scheduler", Scheduler)
LIBRARY = web.AppKey("library", LoadResult)
SERVICES = web.AppKey("services", Services)
CHECKPOINTER = web.AppKey("checkpointer", Checkpointer)
INGEST = web.AppKey("ingest", Ingest)
RETENTION = web.AppKey("retention", VoiceRetention)
BUS = web.AppKey("bus", Bus)
REARM = web.AppKey("rearm", Coalesced)


def build_platform_adapters(settings: Settings, directory: Directory, media: Media
                            ) -> list[Adapter]:
    """Every chat platform whose credentials are set (the web chat is always on)."""
    adapters: list[Adapter] = []
    for name, module_name in PLATFORMS.items():
        module = importlib.import_module(module_name)
        config = module.load_config(settings.extra)
        if config is not None:
            adapters.append(module.create_adapter(config, directory=directory, media=media,
                                                  base_url=settings.base_url))
            log.info("%s is on", name)
    return adapters


def check_platform_settings(settings: Settings) -> None:
    """Read every platform's settings once, so a bad one stops start-up before anything runs."""
    for module_name in PLATFORMS.values():
        importlib.import_module(module_name).load_config(settings.extra)


def sync_library(engine: Engine, folder: Path) -> LoadResult:
    """Take in the lessons folder's new and changed files; the library and the files' problems."""
    try:
        with session(engine) as db:
            return take_in_files(db, folder)
    except TAKEN_IN_MEANWHILE:  # another instance starting at the same moment took them in
        with session(engine) as db:
            return take_in_files(db, folder)


def create_app(settings: Settings) -> web.Application:
    """Build the whole bot as an aiohttp application; background work starts with the app."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.audio_dir.mkdir(parents=True, exist_ok=True)
    # The running bot's commits leave SQLite's checkpoints to the app's Checkpointer.
    engine = open_database(settings.db_url, busy_timeout_ms=settings.db_busy_timeout_ms,
                           checkpoints=False)
    db_threads = open_pool(engine)
    library = sync_library(engine, settings.lessons_dir)
    for problem in library.problems:
        log.error("broken lesson file: %s", problem)
    log.info("%d lessons in the library (files taken in from %s)", len(library.lessons),
             settings.lessons_dir)

    app = web.Application(client_max_size=2 * 1024 * 1024)
    if settings.trusted_proxies:  # behind nginx: limits and lockouts count the client's address
        app.middlewares.append(forwarded_middleware(
            [ipaddress.ip_network(n, strict=False) for n in settings.trusted_proxies]))
    media = Media(settings.audio_dir, settings.base_url, store=build_media_store(engine))
    media.setup(app)
    bus = build_bus(settings)
    webchat = WebChatAdapter(WebChatStore(engine), media, limits=ChatLimits(
        messages=settings.webchat_messages, window_s=settings.webchat_window,
        voices_per_day=settings.webchat_voices_per_day,
        voice_quota_bytes=settings.webchat_voice_quota_mb * 1024 * 1024,
        new_ids_per_hour=settings.webchat_new_ids_per_hour,
        photos_per_day=settings.photos_per_day),
        retry_window=settings.storage_retry_seconds, bus=bus)
    webchat.setup(app)
    adapters: dict[str, Adapter] = {webchat.platform: webchat}
    for adapter in build_platform_adapters(settings, GroupDirectory(engine), media):
        adapter.setup(app)
        adapters[adapter.platform] = adapter
    outbox = Outbox(adapters, budget=shared_budget(engine, app))
    flavour_worker = build_flavour_worker(settings)
    voice = LessonVoice(engine, settings.lessons_dir, build_speech(settings),
                        tune=partial(tuned_profile, settings), flavoured=settings.flavour,
                        flavourer=flavour_worker.flavour, media=media)
    # PyAV transcodes in a child that ends when idle, not in the bot's own memory.
    poster = LessonPoster(engine, voice, outbox, media=media,
                          variants=AudioVariants(AUDIO))
    talks = NightTalkHost(engine, outbox, public_url=settings.base_url)
    retention = VoiceRetention(engine, settings.audio_dir, days=settings.webchat_voice_days,
                               timezone=settings.timezone, shared=media.store is not None)
    digest = OverdueDigest(engine, outbox)
    rankings = LeaderboardPoster(engine, outbox, size=settings.points_top,
                                 last=settings.points_bottom)
    timer_handlers = {**talks.handlers(), **rankings.handlers(), **digest.handlers(),
                      **retention.handlers(), **NightlyBackup(engine, settings).handlers(),
                      **ListenTallies(engine, outbox).handlers(),
                      **MonthlyLedger(engine, outbox, settings.base_url).handlers(),
                      **ShopReceipts(engine, outbox).handlers()}
    scheduler = Scheduler(engine, poster.deliver, grace=timedelta(minutes=settings.grace_minutes),
                          prerender=voice.prerender,
                          prerender_ahead=timedelta(hours=settings.prerender_hours),
                          timer_handlers=timer_handlers, executor=db_threads,
                          # Only an instance alone on its database (SQLite) owns every claim.
                          lease=None if settings.db_url.startswith("sqlite") else
                          timedelta(seconds=settings.claim_lease_seconds))
    # A talk opened or a schedule added anywhere (another instance, the CLI) is seen at once.
    rearm = Coalesced(scheduler.rearm)
    bus.subscribe(SCHEDULER_CHANNEL, rearm.listener)
    rules = PointsRules.of(settings)
    replies = Replies(engine, outbox, backlog=settings.reply_backlog,
                      lease=None if settings.db_url.startswith("sqlite") else
                      timedelta(seconds=settings.claim_lease_seconds))
    services = Services(engine=engine, outbox=outbox, voice=voice, poster=poster, talks=talks,
                        scheduler=scheduler, replies=replies, rules=rules,
                        webchat_caps=WebChatCaps(
                            suggestions_per_day=settings.webchat_suggestions_per_day,
                            points_per_day=settings.webchat_points_per_day),
                        handler_days=settings.handler_days,
                        public_url=settings.base_url,
                        photos=PhotoRules(per_day=settings.photos_per_day),
                        transcripts=build_transcripts(engine, settings), media=media)
    # One clock for the whole bot, so a test moving the services' clock moves every limit.
    webchat.clock = retention.clock = digest.clock = lambda: services.clock()
    router = build_router(services)
    for adapter in adapters.values():
        adapter.on_event = router.handle
    if settings.demo:
        webchat.notice = seed_demo(engine, library, timezone=settings.timezone,
                                   delay=timedelta(seconds=settings.demo_delay))

    app[SETTINGS], app[ENGINE], app[LIBRARY] = settings, engine, library
    app[WEBCHAT], app[OUTBOX], app[POSTER], app[SCHEDULER] = webchat, outbox, poster, scheduler
    app[VOICE], app[FLAVOUR_WORKER] = voice, flavour_worker
    app[SERVICES], app[INGEST], app[RETENTION] = services, router.ingest, retention
    app[BUS], app[REARM] = bus, rearm
    app[CHECKPOINTER] = Checkpointer(engine)
    setup_admin(app, services, settings=settings)
    app.cleanup_ctx.append(_lifecycle)
    return app


def shared_budget(engine: Engine, app: web.Application) -> Budget | None:
    """On PostgreSQL, one send budget per platform account that every instance draws from; on
    SQLite (one instance) each pacer alone keeps the platform's limits."""
    if engine.dialect.name != "postgresql":
        return None
    from bot.outbox.budget import DatabaseBudget  # only several instances need it

    budget = DatabaseBudget(engine)

    async def close(_app: web.Application) -> None:
        await asyncio.to_thread(budget.close)

    app.on_cleanup.append(close)
    return budget


def build_bus(settings: Settings) -> Bus:
    """LISTEN/NOTIFY on PostgreSQL, where several instances may share the database; else this
    process alone, woken by the `yehua` command through the data folder."""
    url = make_url(settings.db_url)
    if url.get_backend_name() == "postgresql":
        from bot.core.pgbus import PgBus  # psycopg is loaded only by a bot on PostgreSQL

        return PgBus(url.set(drivername="postgresql").render_as_string(hide_password=False))
    return LocalBus(settings.data_dir)


def build_media_store(engine: Engine) -> MediaStore | None:
    """The media every instance serves, kept in PostgreSQL; None on SQLite, where one instance
    runs and its media folder is the only copy needed (kept twice, the database and its
    backups would only grow)."""
    if engine.dialect.name != "postgresql":
        return None
    from bot.domain.media_store import DatabaseMediaStore

    return DatabaseMediaStore(engine)


def build_transcripts(engine: Engine, settings: Settings) -> Transcripts | None:
    """Machine transcripts of voice suggestions, when YEHUA_ASR_URL names a server."""
    asr = settings.asr
    if not asr.url:
        return None
    return Transcripts(engine, Transcriber(asr.url, model=asr.model, api_key=asr.api_key,
                                           language=asr.language, timeout=asr.timeout))


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    """Start the alarm clock and owed work with the app; stop and await them on shutdown."""
    scheduler, poster = app[SCHEDULER], app[POSTER]

    def arm(db: Session) -> None:
        ensure_leaderboard_timers(db)
        ensure_digest_timers(db, app[SERVICES].clock())
        ensure_monthly_timers(db)
        app[RETENTION].ensure_timer(db)
        arm_nightly_backup(db, app[SETTINGS])

    app[CHECKPOINTER].start()
    await in_session(app[ENGINE], arm)
    await app[BUS].start()
    await scheduler.start()
    await poster.resume_pending_audio()
    app[SERVICES].replies.start()  # answers stored before a restart go out now
    log.info("Yehua is up on http://%s:%d", app[SETTINGS].host, app[SETTINGS].port)
    yield
    app[INGEST].close()
    await app[BUS].close()
    await app[REARM].close()
    await scheduler.stop()
    transcripts = app[SERVICES].transcripts
    if transcripts is not None:
        await transcripts.close()
    await app[SERVICES].replies.close()
    await poster.close()
    await app[VOICE].close()
    await asyncio.to_thread(app[FLAVOUR_WORKER].close)
    await asyncio.to_thread(VOICES.close)
    await close_pool(app[ENGINE])
    await app[CHECKPOINTER].close()
    app[ENGINE].dispose()
