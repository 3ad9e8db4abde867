"""`yehua lessons …` and `yehua voices`: the library, its spoken versions, rendering ahead."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text
from sqlmodel import select

from bot import texts
from bot.cli.kit import COMMANDS_PANEL, console, fail, load_cli_settings
from bot.core.db import open_database, session
from bot.core.models import Group
from bot.domain.lesson_library import conflicts, take_in_files
from bot.domain.voice import build_flavour_worker, build_speech, engines_for, tuned_profile
from bot.settings import Settings
from lessons.dialect import Flavourer, flavour_pairs, keeps_whole
from lessons.library import Lesson, LoadResult
from lessons.numbers import spoken_numbers
from lessons.profiles import CHINESE_VOICES, PROFILES, SpeechProfile, UnknownProfile, get_profile
from lessons.speech import Speech, SpeechService, SpeechUnavailable
from lessons.spoken import spoken_text

lessons_app = typer.Typer(help="课程库：查看、检查、试听课程。", no_args_is_help=True)

PROFILE_HELP = "语音风格： " + "、 ".join(PROFILES)  # spaces let the help wrap
SPEECH_HINT = "多半是连不上语音服务，请检查网络后再试。"
_UNCHANGED = "（照原文念）"
_UNCHANGED_OFFICIAL = "（照原文念：有官方说法、机构名或引文，不换方言词）"


@lessons_app.command("list", rich_help_panel=COMMANDS_PANEL,
                     help="查看课程库里的所有课程。")
def lessons_list() -> None:
    """List the lessons in the library (files taken in first, console-written ones too)."""
    settings = load_cli_settings()
    library, _ = _take_in(settings)
    table = Table(title=f"课程库（{len(library.lessons)} 课）")
    for column in ("编号", "标题", "主讲", "日期", "标签", "语音风格"):
        table.add_column(column)
    for lesson in library.lessons:
        table.add_row(lesson.slug, lesson.title, lesson.speaker, lesson.date.isoformat(),
                      "、".join(lesson.tags), lesson.speech_profile or "—")
    console.print(table)
    if library.problems:
        count = len(library.problems)
        console.print(f"[yellow]另有 {count} 处问题，运行 yehua lessons check 查看。[/]")


@lessons_app.command("check", rich_help_panel=COMMANDS_PANEL,
                     help="检查每个课程文件，有问题就说出文件和行号；"
                          "也说出在控制台改过之后又被改的文件。")
def lessons_check() -> None:
    """Check every lesson file and take it in; exits non-zero on a broken file or a conflict."""
    settings = load_cli_settings()
    library, conflicts = _take_in(settings)
    for problem in library.problems:
        console.print(f"[red]✗[/] {problem.path}:{problem.line}: {problem.message}",
                      highlight=False)
    for slug in conflicts:
        console.print("[red]✗[/] " + texts.CLI_LESSON_CONFLICT.format(file=f"{slug}.md"),
                      highlight=False)
    console.print(f"[green]✓[/] {len(library.lessons)} 课正常")
    if library.problems:
        broken = len({p.path for p in library.problems})
        raise fail(f"{broken} 个课程文件有问题，请按上面的行号修改。")
    if conflicts:
        raise fail(texts.CLI_LESSON_CONFLICTS.format(count=len(conflicts)))


def _take_in(settings: Settings) -> tuple[LoadResult, list[str]]:
    """Take in the folder's files; the library, the files' problems and the conflicts."""
    engine = open_database(settings.db_url)
    try:
        with session(engine) as db:
            return take_in_files(db, settings.lessons_dir), conflicts(db)
    finally:
        engine.dispose()


def _lesson(settings: Settings, slug: str) -> Lesson:
    lesson = _take_in(settings)[0].get(slug)
    if lesson is None:
        raise fail(f"课程库里没有「{slug}」。用 yehua lessons list 查看课程编号。")
    return lesson


def _profile(settings: Settings, name: str | None, lesson: Lesson | None = None) -> SpeechProfile:
    try:
        chosen = get_profile(name or (lesson.speech_profile if lesson else None))
    except UnknownProfile as exc:
        raise fail(str(exc)) from exc
    return tuned_profile(settings, chosen)


def _stats_table(speech: SpeechService) -> Table:
    stats = speech.stats
    table = Table(title="合成情况")
    for column in ("新合成的句段", "用缓存的", "失败的课", "用了备用引擎的课"):
        table.add_column(column, justify="right")
    table.add_row(str(stats["synthesized"]), str(stats["cached"]), str(stats["failed"]),
                  str(stats["fallback"]))
    return table


@lessons_app.command(
    "speak", rich_help_panel=COMMANDS_PANEL,
    help="试听一课：先看看会怎么念，再合成语音；不会发到群里。\n\n"
         "例：yehua lessons speak village-rules -p 湘 --show-text")
def lessons_speak(
    slug: Annotated[str, typer.Argument(help="课程编号")],
    profile: Annotated[str | None, typer.Option("--profile", "-p", help=PROFILE_HELP)] = None,
    show_text: Annotated[bool, typer.Option("--show-text", help="对照显示原文和朗读稿")] = False,
    audio: Annotated[bool, typer.Option("--audio/--no-audio", help="是否合成语音")] = True,
) -> None:
    """Show how a lesson will be read aloud, and make its voice, before anything is posted."""
    settings = load_cli_settings()
    lesson = _lesson(settings, slug)
    chosen = _profile(settings, profile, lesson)
    with contextlib.closing(build_flavour_worker(settings)) as worker:
        if show_text:
            _show_text(lesson, chosen, settings.flavour and chosen.flavour, worker.flavour)
        if not audio:
            return
        text = spoken_text(lesson, chosen, flavoured=settings.flavour, flavourer=worker.flavour)
    speech = build_speech(settings)
    with console.status(f"正在合成《{lesson.title}》（{chosen.name}）…"):
        try:
            result = asyncio.run(_render_and_close(speech, text, chosen))
        except SpeechUnavailable as exc:
            stop = fail(f"语音合成失败：{SPEECH_HINT}")
            console.print(f"详细原因：{escape(str(exc))}", style="dim", highlight=False)
            raise stop from exc
    console.print(f"[green]✓[/] {result.path}  {result.duration_s:.0f} 秒，引擎 {result.engine}")
    console.print(_stats_table(speech))


def _show_text(lesson: Lesson, chosen: SpeechProfile, flavoured: bool,
               flavourer: Flavourer) -> None:
    # Whole sentences, folded at the terminal's width: a reviewer must see every word said.
    pairs = flavour_pairs(lesson.plain_text, chosen.name if flavoured else "普通话", flavourer)
    console.print(Text(f"《{lesson.title}》· {chosen.name}", style="bold"))
    console.print(Text("原文是发到群里的字，读作是念给大家听的稿子；和原文不一样的标成黄色。",
                       style="dim"))
    grid = Table.grid(padding=(0, 1))
    grid.add_column(justify="right", no_wrap=True)
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for number, (original, spoken) in enumerate(pairs, 1):
        said = spoken_numbers(spoken)
        grid.add_row(str(number), "原文", Text(original))
        grid.add_row("", "读作", Text(said, style="bold yellow") if said != original
                     else Text(_UNCHANGED_OFFICIAL if flavoured and keeps_whole(original)
                               else _UNCHANGED, style="dim"))
    console.print(grid)


async def _render_and_close(speech: SpeechService, text: str, profile: SpeechProfile) -> Speech:
    try:
        return await speech.render(text, profile.voice)
    finally:
        await speech.close()


def _profiles_in_use(settings: Settings) -> set[str]:
    engine = open_database(settings.db_url)
    with session(engine) as db:
        names = {g.speech_profile for g in db.exec(select(Group)).all()}
    engine.dispose()
    return {n for n in names if n in PROFILES} or {"普通话"}


@lessons_app.command(
    "render", rich_help_panel=COMMANDS_PANEL,
    help="提前合成语音：按各群用的语音风格，或 -p 指定的风格。\n\n"
         "例：yehua lessons render --all")
def lessons_render(
    slugs: Annotated[list[str] | None, typer.Argument(help="课程编号；不写则配合 --all")] = None,
    all_: Annotated[bool, typer.Option("--all", help="课程库里的所有课")] = False,
    profile: Annotated[list[str] | None, typer.Option("--profile", "-p", help=PROFILE_HELP)
                       ] = None,
) -> None:
    """Make the voices ahead of time, for the profiles the groups use (or those named)."""
    settings = load_cli_settings()
    library, _ = _take_in(settings)
    if all_:
        lessons = library.lessons
    elif slugs:
        lessons = [_lesson(settings, s) for s in slugs]
    else:
        raise fail("请写课程编号，或用 --all 合成全部课程。")
    names = set(profile or ()) or _profiles_in_use(settings)
    jobs = [(lesson, _profile(settings, name)) for lesson in lessons
            for name in sorted(names | {lesson.speech_profile or "普通话"})]
    speech = build_speech(settings)
    with contextlib.closing(build_flavour_worker(settings)) as worker:
        failed = asyncio.run(_render_all(speech, jobs, settings, worker.flavour))
    console.print(_stats_table(speech))
    if failed:
        raise fail(f"{len(failed)} 课没能合成：" + "、".join(failed) + "。" + SPEECH_HINT)


async def _render_all(speech: SpeechService, jobs: list[tuple[Lesson, SpeechProfile]],
                      settings: Settings, flavourer: Flavourer) -> list[str]:
    failed: list[str] = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("合成语音", total=len(jobs))

        async def one(lesson: Lesson, chosen: SpeechProfile) -> None:
            text = spoken_text(lesson, chosen, flavoured=settings.flavour, flavourer=flavourer)
            try:
                await speech.render(text, chosen.voice)
            except SpeechUnavailable as exc:
                failed.append(f"{lesson.slug}（{chosen.name}）")
                progress.console.print(f"[red]✗[/] {lesson.slug}（{chosen.name}）没合成出来："
                                       f"[dim]{escape(str(exc))}[/]", highlight=False)
            progress.advance(task)

        try:
            await asyncio.gather(*(one(lesson, chosen) for lesson, chosen in jobs))
        finally:
            await speech.close()
    return failed


def voices() -> None:
    """List the speech profiles and the Chinese voices they can use."""
    settings = load_cli_settings()
    table = Table(title="语音风格（群可以选，课程也可以单独指定）")
    for column in ("风格", "说明", "声音", "语速", "音量", "音调", "方言说法",
                   texts.VOICE_ENGINE_COLUMN):
        table.add_column(column)
    for name in PROFILES:
        p = tuned_profile(settings, PROFILES[name])
        table.add_row(p.name, p.description, p.voice.name, p.voice.rate, p.voice.volume,
                      p.voice.pitch, "有" if p.flavour and settings.flavour else "—",
                      engines_for(settings, name))
    console.print(table)
    catalogue = Table(title="可用的中文声音（edge-tts）")
    for column in ("声音", "性别", "特点"):
        catalogue.add_column(column)
    for row in CHINESE_VOICES:
        catalogue.add_row(*row)
    console.print(catalogue)
