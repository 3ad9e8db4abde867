"""Voice-making for lessons: find the lesson, pick and tune its profile, render, cache."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import select

from bot import texts
from bot.core.db import in_session
from bot.core.models import Group
from bot.domain.lesson_library import TAKEN_IN_MEANWHILE, current_lesson, take_in_file
from bot.settings import Settings
from lessons.dialect import Flavourer, flavour_sentences
from lessons.flavour_worker import FlavourWorker
from lessons.library import Lesson
from lessons.profiles import DEFAULT_PROFILE, SpeechProfile, effective_profile, with_prosody
from lessons.speech import Speech, SpeechService, SpeechUnavailable, Synthesizer
from lessons.spoken import spoken_text
from lessons.synthesizers import (
    EdgeSynthesizer,
    EspeakSynthesizer,
    ServerSynthesizer,
    SpeechServer,
)

log = logging.getLogger(__name__)


def build_speech(settings: Settings) -> SpeechService:
    """edge-tts, then espeak-ng offline if allowed; a speech server first for its profiles."""
    synthesizers: list[Synthesizer] = [
        EdgeSynthesizer(endpoint=settings.tts_endpoint, timeout=settings.tts_timeout,
                        concurrency=settings.tts_concurrency)]
    espeak = EspeakSynthesizer()
    if settings.espeak and espeak.available():
        synthesizers.append(espeak)
    elif settings.espeak:
        log.warning("espeak-ng is not installed: without the speech service, lessons go out "
                    "as text with a notice and the voice follows later")
    return SpeechService(settings.audio_dir, synthesizers,
                         chains=server_chains(settings, synthesizers))


def server_chains(settings: Settings, fallbacks: list[Synthesizer]
                  ) -> dict[str, list[Synthesizer]]:
    """Profile -> its chain, for the profiles YEHUA_TTS_SERVER_PROFILES gives the server."""
    config = settings.speech_server
    if not config.url:
        return {}
    server = SpeechServer(config.url, api_key=config.api_key, timeout=config.timeout,
                          concurrency=settings.tts_concurrency)
    return {
        name: [ServerSynthesizer(server, model=config.model, voice=config.voice,
                                 instructions=config.instructions.get(name, "")), *fallbacks]
        for name in config.profiles
    }


def engines_for(settings: Settings, profile: str) -> str:
    """Who speaks `profile`, in the order tried, for people to read."""
    server = settings.speech_server
    names = [texts.VOICE_ENGINE_SERVER.format(model=server.model, voice=server.voice)
             ] if server.url and profile in server.profiles else []
    names.append(texts.VOICE_ENGINE_EDGE)
    if settings.espeak and EspeakSynthesizer().available():
        names.append(texts.VOICE_ENGINE_ESPEAK)
    return texts.VOICE_ENGINE_THEN.join(names)


def build_flavour_worker(settings: Settings) -> FlavourWorker:
    """The flavour worker the settings ask for (in a child process, or in this one)."""
    # jieba's dictionary (~130 MB) lives in a child that ends when idle, not in the bot.
    return FlavourWorker(flavour_sentences, in_process=settings.flavour_in_process)


def tuned_profile(settings: Settings, profile: SpeechProfile) -> SpeechProfile:
    """A profile with the site's delivery settings; YEHUA_TTS_VOICE replaces 普通话's voice."""
    voice = settings.tts_voice if profile.name == DEFAULT_PROFILE else None
    return with_prosody(profile, rate=settings.tts_rate, volume=settings.tts_volume,
                        pitch=settings.tts_pitch, voice=voice or None)


@functools.lru_cache(maxsize=256)
def _spoken(lesson: Lesson, profile: SpeechProfile, flavoured: bool,
            flavourer: Flavourer | None) -> str:
    """The spoken text, kept: flavouring a lesson segments every sentence (slow-ish)."""
    return spoken_text(lesson, profile, flavoured=flavoured, flavourer=flavourer)


class LessonVoice:
    """Makes a lesson's voice in a group's profile, from the speech service or its cache."""

    def __init__(self, engine: Engine, lessons_dir: Path, speech: SpeechService, *,
                 tune: Callable[[SpeechProfile], SpeechProfile] = lambda p: p,
                 flavoured: bool = True, flavourer: Flavourer | None = None) -> None:
        self.engine = engine
        self.lessons_dir = lessons_dir
        self.speech = speech
        self.tune = tune
        self.flavoured = flavoured
        self.flavourer = flavourer  # the jieba part of flavouring; None: in this process

    async def find_lesson(self, slug: str, *, archived: bool = False) -> Lesson | None:
        """The library's current version of a lesson; None if missing (or archived).

        Its file is taken in first, so a file edited while the bot runs is what gets posted."""

        try:
            problems = await in_session(self.engine, take_in_file, self.lessons_dir, slug)
        except TAKEN_IN_MEANWHILE:  # a lesson posted to many groups at once: one takes it in
            problems = []
        for problem in problems:
            log.error("lesson %s: %s", slug, problem)
        return await in_session(self.engine, current_lesson, self.lessons_dir, slug,
                                archived=archived)

    def profile_for(self, group: Group, lesson: Lesson) -> SpeechProfile:
        """The group's speech profile, unless the lesson names its own."""
        return self._profile(group.speech_profile, lesson)

    def _profile(self, group_profile: str | None, lesson: Lesson) -> SpeechProfile:
        return self.tune(effective_profile(group_profile, lesson.speech_profile))

    def spoken(self, lesson: Lesson, profile: SpeechProfile) -> str:
        """The words the voice says for `lesson` in the (tuned) `profile`."""
        return _spoken(lesson, profile, self.flavoured, self.flavourer)

    def cached(self, lesson: Lesson, profile: SpeechProfile) -> Speech | None:
        """The voice of `lesson` in the (tuned) `profile` if already made; None otherwise."""
        return self.speech.cached(self.spoken(lesson, profile), profile.voice)

    async def render(self, lesson: Lesson, profile: SpeechProfile) -> Speech | None:
        """The lesson's voice from the cache or freshly synthesized; None if no engine works."""
        # Flavouring may wait for the flavour worker to start (a second or two): not on the loop.
        text = await asyncio.to_thread(spoken_text, lesson, profile, flavoured=self.flavoured,
                                       flavourer=self.flavourer)
        try:
            return await self.speech.render(text, profile.voice)
        except SpeechUnavailable as exc:
            log.error("no voice for lesson %s: %s", lesson.slug, exc)
            return None

    async def prerender(self, slug: str) -> None:
        """Render a lesson's voice ahead of its posting time, in every profile groups use."""
        lesson = await self.find_lesson(slug)
        if lesson is None:
            return
        # The profile names only: loading every group (a thousand rows, for each lesson due)
        # left ~1.4 MB of the Python heap behind.
        names = await in_session(self.engine, lambda db: db.exec(
            select(Group.speech_profile).distinct()).all())
        for profile in {self._profile(name, lesson) for name in names}:
            await self.render(lesson, profile)

    async def close(self) -> None:
        """Close the speech service (the app's cleanup)."""
        await self.speech.close()
