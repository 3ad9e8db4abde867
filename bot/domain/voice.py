"""Voice-making for lessons: the speech service, the site's tuning of speech profiles."""

from __future__ import annotations

import logging

from bot.settings import Settings
from lessons.profiles import DEFAULT_PROFILE, SpeechProfile, with_prosody
from lessons.speech import SpeechService, Synthesizer
from lessons.synthesizers import EdgeSynthesizer, EspeakSynthesizer

log = logging.getLogger(__name__)


def build_speech(settings: Settings) -> SpeechService:
    """edge-tts first, espeak-ng as the offline fallback when it is installed and allowed."""
    synthesizers: list[Synthesizer] = [
        EdgeSynthesizer(endpoint=settings.tts_endpoint, timeout=settings.tts_timeout,
                        concurrency=settings.tts_concurrency)]
    espeak = EspeakSynthesizer()
    if settings.espeak and espeak.available():
        synthesizers.append(espeak)
    elif settings.espeak:
        log.warning("espeak-ng is not installed: without the speech service, lessons go out "
                    "as text with a notice and the voice follows later")
    return SpeechService(settings.audio_dir, synthesizers)


def tuned_profile(settings: Settings, profile: SpeechProfile) -> SpeechProfile:
    """A profile with the site's delivery settings; YEHUA_TTS_VOICE replaces 普通话's voice."""
    voice = settings.tts_voice if profile.name == DEFAULT_PROFILE else None
    return with_prosody(profile, rate=settings.tts_rate, volume=settings.tts_volume,
                        pitch=settings.tts_pitch, voice=voice or None)
