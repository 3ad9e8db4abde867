"""Voice-making for lessons: find the lesson, pick and tune its profile, render, cache."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import select

from bot import texts
from bot.core.adapter import SharedMedia
from bot.core.db import in_session, session
from bot.core.models import Group
from bot.domain.lesson_library import TAKEN_IN_MEANWHILE, current_lesson, take_in_file
from bot.domain.recordings import (
    RecordingSource,
    RecordingView,
    current_recording,
    recording_audio,
    remove_recording,
    save_recording,
    voiced,
)
from bot.settings import Settings
from lessons.dialect import Flavourer, flavour_sentences
from lessons.flavour_worker import FlavourWorker
from lessons.library import Lesson
from lessons.profiles import DEFAULT_PROFILE, SpeechProfile, effective_profile, with_prosody
from lessons.speech import Speech, SpeechService, SpeechUnavailable, Synthesizer, write_atomic
from lessons.spoken import spoken_text
from lessons.synthesizers import (
    EdgeSynthesizer,
    EspeakSynthesizer,
    ServerSynthesizer,
    SpeechServer,
)

log = logging.getLogger(__name__)

RECORDING_ENGINE = "recording"
# How long this process trusts what it last read of a lesson's recording: a fan-out to a
# thousand groups asks once; an upload or removal on another instance shows within this.
RECORDING_TTL_S = 30.0


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
                 flavoured: bool = True, flavourer: Flavourer | None = None,
                 media: SharedMedia | None = None) -> None:
        self.engine = engine
        self.lessons_dir = lessons_dir
        self.speech = speech
        self.tune = tune
        self.flavoured = flavoured
        self.flavourer = flavourer  # the jieba part of flavouring; None: in this process
        self._recordings: dict[str, tuple[float, RecordingView | None]] = {}
        self.media = media  # where synthesized voice is kept for every instance to serve

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
        """The voice of `lesson` in the (tuned) `profile` if already made; None otherwise.
        Blocking: the speaker's recording, when there is one, is read from the database."""
        known = self._fresh(lesson.slug)
        if known is None:
            with session(self.engine) as db:
                known = self._remember(lesson.slug, current_recording(db, lesson.slug))
        if known[1] is not None:
            return self._recording_speech(known[1])
        return self.speech.cached(self.spoken(lesson, profile), profile.voice)

    async def recording(self, slug: str) -> Speech | None:
        """The speaker's own recording of the lesson as a speech file; None when it has none."""
        known = self._fresh(slug)
        if known is None:
            known = self._remember(slug, await in_session(self.engine, current_recording, slug))
        if known[1] is None:
            return None
        return await asyncio.to_thread(self._recording_speech, known[1])

    async def keep_recording(self, lesson: Lesson, source: RecordingSource, *,
                             original_name: str, uploaded_by: str) -> tuple[Speech, int]:
        """Store a recording as the lesson's voice: (its speech file, paragraphs cued).
        RecordingError, with nothing stored, when the file cannot be a voice."""
        # Decoding and encoding minutes of audio takes seconds: never on the loop.
        voice = await asyncio.to_thread(voiced, source, lesson)
        view = await in_session(self.engine, save_recording, lesson.slug, voice,
                                original_name=original_name, uploaded_by=uploaded_by)
        self._remember(lesson.slug, view)
        return await asyncio.to_thread(self._recording_speech, view), voice.paragraphs

    async def drop_recording(self, slug: str, *, removed_by: str) -> RecordingView | None:
        """Retire the lesson's recording (history kept): synthesis speaks it from now on."""
        removed = await in_session(self.engine, remove_recording, slug, removed_by=removed_by)
        self._recordings.pop(slug, None)
        return removed

    def _fresh(self, slug: str) -> tuple[float, RecordingView | None] | None:
        """(when read, the recording) if read lately; None: look it up again."""
        known = self._recordings.get(slug)
        if known is None or time.monotonic() - known[0] > RECORDING_TTL_S:
            return None
        return known

    def _remember(self, slug: str, recording: RecordingView | None
                  ) -> tuple[float, RecordingView | None]:
        known = self._recordings[slug] = (time.monotonic(), recording)
        return known

    def _recording_speech(self, recording: RecordingView) -> Speech:
        """The recording as <audio_dir>/<hash>.mp3 with its .srt, written from the database
        when missing, so any instance can serve it."""
        path = self.speech.cache_dir / f"{recording.audio_hash}.mp3"
        if not path.exists():
            with session(self.engine) as db:
                audio = recording_audio(db, recording.id)
            if audio is None:
                raise LookupError(f"recording {recording.id} is gone")
            path.parent.mkdir(parents=True, exist_ok=True)
            # The .mp3 is what marks it complete, so it is written last.
            write_atomic(path.with_suffix(".srt"), recording.cues.encode())
            write_atomic(path, audio)
        return Speech(path, recording.duration_s, RECORDING_ENGINE, recording.cues,
                      normalised=True)

    async def render(self, lesson: Lesson, profile: SpeechProfile) -> Speech | None:
        """The speaker's recording if the lesson has one; else the lesson's voice from the cache
        or freshly synthesized; None if no engine works."""
        recorded = await self.recording(lesson.slug)
        if recorded is not None:
            return recorded
        return await self.synthesize(lesson, profile)

    async def synthesize(self, lesson: Lesson, profile: SpeechProfile) -> Speech | None:
        """The lesson's synthesized voice (a recording or not): from the cache or made now;
        None if no engine works. What an editor listens to before saving."""
        # Flavouring may wait for the flavour worker to start (a second or two): not on the loop.
        text = await asyncio.to_thread(spoken_text, lesson, profile, flavoured=self.flavoured,
                                       flavourer=self.flavourer)
        try:
            speech = await self.speech.render(text, profile.voice)
        except SpeechUnavailable as exc:
            log.error("no voice for lesson %s: %s", lesson.slug, exc)
            return None
        if self.media is not None:
            # Before anyone gets its address: any instance may be asked for it.
            await self.media.publish(speech.path)
            if speech.srt:
                await self.media.publish(speech.path.with_suffix(".srt"))
        return speech

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
