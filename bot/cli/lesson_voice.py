"""`yehua lessons voice`: keep a speaker's recording as a lesson's voice, or remove it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bot import texts
from bot.cli.kit import console, fail, load_cli_settings, say
from bot.core.db import open_database
from bot.domain.recordings import RecordingError, format_duration
from bot.domain.voice import LessonVoice, build_speech
from lessons.library import Lesson
from lessons.variants import AudioFormat, AudioVariants

VOICE_HELP = ("主讲人录音：用 --file 把录音存为这一课的语音（MP3、M4A、AMR、WAV、OGG），"
              "以后发到各个群都用它；--remove 删除录音，改回合成的语音。\n\n"
              "例：yehua lessons voice village-rules --file 录音.m4a")


def lessons_voice(
    slug: Annotated[str, typer.Argument(help="课程编号")],
    file: Annotated[Path | None, typer.Option("--file", "-f", help="录音文件")] = None,
    remove: Annotated[bool, typer.Option("--remove", help="删除这一课的录音")] = False,
) -> None:
    """Store a recording as the lesson's voice (ready for every platform), or remove it."""
    if (file is None) == (not remove):
        raise fail(texts.CLI_RECORDING_CHOOSE)
    if file is not None and not file.is_file():
        raise fail(texts.CLI_RECORDING_NO_FILE.format(path=file))
    settings = load_cli_settings()
    engine = open_database(settings.db_url)
    try:
        asyncio.run(_voice(LessonVoice(engine, settings.lessons_dir, build_speech(settings)),
                           slug, file))
    finally:
        engine.dispose()


async def _voice(voice: LessonVoice, slug: str, file: Path | None) -> None:
    """Keep `file` as the lesson's voice, or (without one) remove its recording."""
    try:
        lesson = await voice.find_lesson(slug)
        if lesson is None:
            raise fail(texts.RECORDING_UNKNOWN_LESSON.format(slug=slug))
        if file is None:
            removed = await voice.drop_recording(slug, removed_by=texts.CLI_RECORDING_BY)
            if removed is None:
                raise fail(texts.RECORDING_NONE)
            say(texts.RECORDING_REMOVED)
            return
        await _keep(voice, lesson, file)
    finally:
        await voice.close()


async def _keep(voice: LessonVoice, lesson: Lesson, file: Path) -> None:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    formats = list(AudioFormat)
    refused: RecordingError | None = None
    with Progress(*columns, console=console, transient=True) as progress:
        reading = progress.add_task(texts.CLI_RECORDING_READING, total=1)
        try:
            speech, paragraphs = await voice.keep_recording(
                lesson, file, original_name=file.name, uploaded_by=texts.CLI_RECORDING_BY)
        except RecordingError as exc:
            refused = exc
        else:
            progress.advance(reading)
            progress.console.print(texts.CLI_RECORDING_STORED.format(
                title=lesson.title, duration=format_duration(speech.duration_s),
                paragraphs=paragraphs), highlight=False)
            # The bot finds these files beside the recording: its first post does not wait.
            platforms = progress.add_task(texts.CLI_RECORDING_PLATFORMS, total=len(formats))
            variants = AudioVariants()
            for fmt in formats:
                await variants.clips(speech, fmt)
                progress.advance(platforms)
    if refused is not None:
        raise fail(refused.message) from refused
    say(texts.CLI_RECORDING_READY)
