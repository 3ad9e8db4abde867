"""Machine transcripts of voice suggestions: made after the suggestion is stored, shown as
机器转写 until a secretary or facilitator confirms or corrects them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot import texts
from bot.core.db import in_session
from bot.core.models import Suggestion, SuggestionChange
from bot.domain.suggestions import (
    TEXT_LIMIT,
    SuggestionError,
    categorize,
    get_suggestion,
    set_text,
)
from lessons.audio_jobs import wav_to_mp3_away
from lessons.transcription import Transcriber, TranscriptionError

log = logging.getLogger(__name__)

# What transcription servers take as they are; anything else (AMR, SILK) is sent as MP3.
SERVER_FORMATS = {".mp3", ".mpga", ".mpeg", ".m4a", ".mp4", ".wav", ".webm", ".ogg", ".oga",
                  ".flac"}

HOLD_MARGIN_SECONDS = 10.0


class Transcripts:
    """Transcribes voice suggestions in the background and keeps what the server heard."""

    def __init__(self, engine: Engine, transcriber: Transcriber) -> None:
        self.engine = engine
        self.transcriber = transcriber
        # How long a receipt waits for the transcript: the server's time, and the voice's
        # conversion and the text's storing around it.
        self.hold = timedelta(seconds=transcriber.timeout + HOLD_MARGIN_SECONDS)
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` (a transcript and the receipt that waits for it) beside the chat."""
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def transcribe(self, number: int, voice_path: str) -> str | None:
        """Transcribe suggestion `number`'s voice and keep the text as 机器转写; the text, or
        None when the server gave none or a person has written the text meanwhile."""
        path = Path(voice_path)
        try:
            audio = await asyncio.to_thread(_server_audio, path)
            said = await self.transcriber.transcribe(audio, _server_name(path))
        except (OSError, ValueError, TranscriptionError) as exc:
            log.warning("suggestion %s: no transcript (%s)", number, exc)
            return None
        said = said[:TEXT_LIMIT].strip()
        if not said:
            log.info("suggestion %s: the transcription server heard no words", number)
            return None
        kept = await in_session(self.engine, keep_machine_text, number, said)
        return said if kept else None

    async def wait(self) -> None:
        """Wait for the transcripts under way (tests, and the app's shutdown)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks))

    async def close(self) -> None:
        """Cancel and await the transcripts under way; close the server's pool (cleanup)."""
        tasks = set(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.transcriber.aclose()


def keep_machine_text(db: Session, number: int, said: str) -> bool:
    """Write the machine transcript into suggestion `number`, unless it has text already."""
    row = db.get(Suggestion, number)
    if row is None or row.text.strip():
        return False
    row.text, row.machine_text = said, True
    if row.category == "other":  # filed by its words, as a typed one is
        row.category = categorize(said)
    db.add(row)
    return True


def settle_machine_text(db: Session, number: int, *, text: str | None, actor_id: str,
                        actor_name: str, now: datetime, group_id: int | None = None
                        ) -> Suggestion:
    """A person confirms the machine transcript (`text` None or unchanged) or corrects it;
    either way it is no longer 机器转写, and the history says who did which."""
    row = get_suggestion(db, number, group_id=group_id)
    if not row.machine_text:
        raise SuggestionError(texts.TRANSCRIPT_NOT_MACHINE.format(number=number))
    before = row.text
    if text is not None and text.strip() != before:
        set_text(db, number, text, group_id=group_id, now=now)  # checked and filed as typed
    confirmed = row.text == before
    note = (texts.TRANSCRIPT_CONFIRMED_HISTORY if confirmed
            else texts.TRANSCRIPT_CORRECTED_HISTORY.format(before=before))
    row.machine_text, row.updated_at = False, now
    db.add(row)
    # Same status before and after: the history shows who vouched for the words.
    db.add(SuggestionChange(suggestion_id=number, from_status=row.status, to_status=row.status,
                            actor_id=actor_id, actor_name=actor_name, reply=note,
                            created_at=now))
    db.flush()
    log.info("suggestion %s: machine transcript %s by %s", number,
             "confirmed" if confirmed else "corrected", actor_id)
    return row


def _server_audio(path: Path) -> bytes:
    data = path.read_bytes()
    return data if path.suffix.lower() in SERVER_FORMATS else wav_to_mp3_away(data)


def _server_name(path: Path) -> str:
    return path.name if path.suffix.lower() in SERVER_FORMATS else f"{path.stem}.mp3"
