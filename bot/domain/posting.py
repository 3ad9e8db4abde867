"""Posting lessons: from a claimed ledger row to text and voice in the group, recorded as sent."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot import texts
from bot.core.adapter import SharedMedia
from bot.core.db import in_session
from bot.core.messages import OutgoingAudio, OutgoingMessage, OutgoingText
from bot.core.models import Group
from bot.domain.voice import LessonVoice
from bot.outbox import Outbox
from lessons.library import Lesson
from lessons.speech import Speech
from lessons.variants import AudioVariants
from scheduler import ledger
from scheduler.models import Delivery, DeliveryStatus

log = logging.getLogger(__name__)

# Voice still missing after a post is retried after these pauses (seconds), then given up.
AUDIO_RETRY_DELAYS = (60.0, 300.0, 900.0, 3600.0)


def lesson_post_text(lesson: Lesson) -> str:
    """The chat text of a lesson: a headline, the speaker, then the lesson."""
    return texts.LESSON_POST.format(title=lesson.title, speaker=lesson.speaker,
                                    body=lesson.plain_text)


class Progress:
    """Records each part of a post in the ledger as soon as the platform has it."""

    def __init__(self, engine: Engine, delivery: Delivery, *, with_text: bool,
                 with_audio: bool) -> None:
        assert delivery.id is not None
        self.engine = engine
        self.delivery_id = delivery.id
        self.with_text = with_text  # the batch starts with the lesson's text
        self.with_audio = with_audio  # the rest are voice clips (not a "voice follows" note)
        self.text_id = delivery.text_message_id
        self.audio_ids = done_clips(delivery)

    async def sent(self, index: int, message_id: str) -> None:
        """The outbox's hook, awaited after each message of the batch."""
        if self.with_text and index == 0:
            self.text_id = message_id
            await in_session(self.engine, ledger.record_progress, self.delivery_id,
                             text_message_id=message_id)
        elif self.with_audio:
            self.audio_ids.append(message_id)
            await in_session(self.engine, ledger.record_progress, self.delivery_id,
                             audio_message_id=",".join(self.audio_ids))


def _delivery_and_group(db: Session, delivery_id: int) -> tuple[Delivery | None, Group | None]:
    delivery = db.get(Delivery, delivery_id)
    return delivery, db.get(Group, delivery.group_id) if delivery else None


def done_clips(delivery: Delivery) -> list[str]:
    """Voice clips of this post already sent before an interruption (none for a fresh post)."""
    if delivery.text_message_id is None or not delivery.audio_message_id:
        return []
    return delivery.audio_message_id.split(",")


class LessonPoster:
    """Turns claimed deliveries into posts (voice from `voice`); owns the tasks doing it."""

    def __init__(self, engine: Engine, voice: LessonVoice, outbox: Outbox, *,
                 audio_retry_delays: tuple[float, ...] = AUDIO_RETRY_DELAYS,
                 media: SharedMedia | None = None, variants: AudioVariants | None = None) -> None:
        self.engine = engine
        self.voice = voice
        self.outbox = outbox
        self.variants = variants or AudioVariants()
        self.audio_retry_delays = audio_retry_delays
        self.media = media  # where the platform files are kept for every instance to serve
        self._tasks: set[asyncio.Task[None]] = set()
        self.posted = asyncio.Event()  # set after every completed post; handy for waiting callers

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def deliver(self, delivery: Delivery) -> None:
        """The scheduler's delivery callable: queue the post and return at once."""
        assert delivery.id is not None
        self._spawn(self.post(delivery.id))

    async def resume_pending_audio(self) -> None:
        """At start: voices that were still owed when the bot stopped are retried."""
        owed = await in_session(self.engine, lambda db: db.exec(select(Delivery).where(
            Delivery.status == DeliveryStatus.SENT, Delivery.audio_pending)).all())
        for delivery in owed:
            assert delivery.id is not None
            self._spawn(self._retry_audio(delivery.id))

    async def close(self) -> None:
        """Cancel and await every background post (the app's cleanup), end the transcoder."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.to_thread(self.variants.close)

    async def lesson_messages(self, group: Group, slug: str) -> list[OutgoingMessage] | None:
        """A lesson's post for one group again (重听): text, then its voice if it can be made."""
        lesson = await self.voice.find_lesson(slug)
        if lesson is None:
            return None
        messages: list[OutgoingMessage] = [
            OutgoingText(lesson_post_text(lesson), lesson_slug=lesson.slug)]
        speech = await self.voice.render(lesson, self.voice.profile_for(group, lesson))
        if speech is not None:
            messages.extend(await self._audio(group, lesson, speech))
        return messages

    async def post(self, delivery_id: int) -> None:
        """Post one claimed delivery: text, then its voice (or a notice that voice will follow)."""
        delivery, group = await in_session(self.engine, _delivery_and_group, delivery_id)
        if delivery is None or delivery.status != DeliveryStatus.CLAIMED:
            return
        try:
            await self._post(delivery, group)
        except Exception as exc:  # the error boundary of one post: record it, keep the bot running
            log.exception("posting delivery %s failed", delivery_id)
            await in_session(self.engine, ledger.mark_failed, delivery_id,
                             f"{type(exc).__name__}: {exc}")
        finally:
            self.posted.set()

    async def _post(self, delivery: Delivery, group: Group | None) -> None:
        assert delivery.id is not None
        if group is None:
            raise LookupError(f"group {delivery.group_id} no longer exists")
        lesson = await self.voice.find_lesson(delivery.lesson_slug)
        if lesson is None:
            raise LookupError(f"lesson {delivery.lesson_slug} is archived or not in the library")
        speech = await self.voice.render(lesson, self.voice.profile_for(group, lesson))
        # A crash may have interrupted this post after its text or some clips went out.
        with_text = delivery.text_message_id is None
        messages: list[OutgoingMessage] = [
            OutgoingText(lesson_post_text(lesson), lesson_slug=lesson.slug)] if with_text else []
        if speech is None:
            messages.append(OutgoingText(texts.VOICE_WILL_FOLLOW, lesson_slug=lesson.slug))
        else:
            clips = await self._audio(group, lesson, speech)
            messages.extend(clips[len(done_clips(delivery)):])
        progress = Progress(self.engine, delivery, with_text=with_text,
                            with_audio=speech is not None)
        await self.outbox.send(group.platform, group.chat_id, messages, on_sent=progress.sent)
        await in_session(self.engine, ledger.mark_sent, delivery.id,
                         text_message_id=progress.text_id,
                         audio_message_id=",".join(progress.audio_ids) if speech else None,
                         speech_engine=speech.engine if speech else None,
                         audio_pending=speech is None)
        log.info("lesson %s posted to %s/%s (%s)", lesson.slug, group.platform, group.chat_id,
                 speech.engine if speech else "voice pending")
        if speech is None:
            self._spawn(self._retry_audio(delivery.id))

    async def prepare_formats(self, speech: Speech) -> None:
        """Transcode a voice now for every platform the bot serves, so no posting waits."""
        for fmt in sorted({adapter.audio_format for adapter in self.outbox.adapters.values()}):
            await self.variants.clips(speech, fmt)

    async def _audio(self, group: Group, lesson: Lesson, speech: Speech) -> list[OutgoingAudio]:
        """The voice in the group's platform format: one clip, or numbered clips (WeCom)."""
        fmt = self.outbox.adapter(group.platform).audio_format
        clips = await self.variants.clips(speech, fmt)
        subtitles = speech.path.with_suffix(".srt") if len(clips) == 1 and speech.srt else None
        if self.media is not None:  # once per file: the rest of a fan-out finds it kept
            for path in [*(clip.path for clip in clips), subtitles]:
                if path is not None:
                    await self.media.publish(path)
        return [OutgoingAudio(clip.path, clip.duration_s, lesson_slug=lesson.slug,
                              caption=lesson.title if clip.count == 1 else
                              texts.LESSON_CLIP_CAPTION.format(title=lesson.title,
                                                               n=clip.index + 1, of=clip.count),
                              subtitles=subtitles)
                for clip in clips]

    async def _retry_audio(self, delivery_id: int,
                           sleep: Callable[[float], Coroutine[Any, Any, None]] = asyncio.sleep
                           ) -> None:
        """Keep trying to synthesize a lesson's owed voice and post it when it works."""
        for delay in (0.0, *self.audio_retry_delays):
            await sleep(delay)
            delivery, group = await in_session(self.engine, _delivery_and_group, delivery_id)
            if delivery is None or group is None or not delivery.audio_pending:
                return
            lesson = await self.voice.find_lesson(delivery.lesson_slug)
            if lesson is None:
                return
            speech = await self.voice.render(lesson, self.voice.profile_for(group, lesson))
            if speech is None:
                continue
            ids = await self.outbox.send(group.platform, group.chat_id,
                                         await self._audio(group, lesson, speech))
            await in_session(self.engine, ledger.mark_sent, delivery_id,
                             text_message_id=delivery.text_message_id,
                             audio_message_id=",".join(ids), speech_engine=speech.engine,
                             audio_pending=False)
            log.info("owed voice of %s posted to %s/%s", lesson.slug, group.platform,
                     group.chat_id)
            return
        log.error("voice for delivery %s could not be made; the text stays posted", delivery_id)
