"""The lesson library in the database: files taken in as versions, console saves, conflicts,
and what gets posted."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.app import ENGINE, SCHEDULER
from bot.core.db import session
from bot.core.models import ChatMessage, Group, LessonOrigin, LessonRecord
from bot.domain import lesson_library as library
from bot.domain.lesson_library import LessonExists, LessonForm, StaleSave
from bot.settings import Settings
from lessons.library import MAX_BODY_CHARS, Lesson
from scheduler.dbtypes import utcnow
from scheduler.models import Delivery, DeliveryStatus
from scheduler.schedules import add_schedule
from tests.support.app import running
from tests.support.polling import eventually

TEXT = ("---\ntitle: 防汛知识\nspeaker: 李支书\ndate: 2026-06-01\ntags: [防汛, 安全]\n"
        "summary: 汛期怎么办\n---\n乡亲们好！汛期到了，大家要注意安全。\n")


def _write(folder: Path, slug: str, text: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / f"{slug}.md").write_text(text, encoding="utf-8")


def _take_in(engine: Engine, folder: Path) -> None:
    with session(engine) as db:
        library.take_in_files(db, folder)


def _current(engine: Engine, folder: Path, slug: str = "flood") -> Lesson:
    with session(engine) as db:
        lesson = library.current_lesson(db, folder, slug, archived=True)
    assert lesson is not None
    return lesson


def _console_edit(engine: Engine, folder: Path, body: str, *, based_on: int,
                  author: str = "王书记", slug: str = "flood") -> int:
    form = LessonForm.of(_current(engine, folder, slug))
    checked = library.check_form(folder, LessonForm(**{**form.__dict__, "body": body}))
    assert checked.lesson is not None, checked.problems
    with session(engine) as db:
        return library.save(db, checked.lesson, based_on=based_on, author=author).number


def _history(engine: Engine, slug: str = "flood") -> list[tuple[int, str, str]]:
    with session(engine) as db:
        return [(v.number, v.origin, v.author) for v in library.versions(db, slug)]


def test_a_new_file_is_version_one_and_an_edited_file_a_new_version(
        engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "lessons"
    _write(folder, "flood", TEXT)
    _take_in(engine, folder)
    _take_in(engine, folder)  # an unchanged file adds nothing
    assert _history(engine) == [(1, LessonOrigin.FILE, "flood.md")]
    _write(folder, "flood", TEXT.replace("注意安全", "远离河边"))
    _take_in(engine, folder)
    assert _history(engine)[0] == (2, LessonOrigin.FILE, "flood.md")
    assert "远离河边" in _current(engine, folder).body
    with session(engine) as db:
        assert library.version_text(db, "flood", 1) == TEXT


def test_a_lesson_registered_before_the_library_was_kept_gets_its_first_version(
        engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "lessons"
    _write(folder, "flood", TEXT)
    with session(engine) as db:
        db.add(LessonRecord(slug="flood", title="防汛知识"))  # version 0: only registered
    _take_in(engine, folder)
    assert _history(engine) == [(1, LessonOrigin.FILE, "flood.md")]
    assert _current(engine, folder).title == "防汛知识"


def test_a_file_edited_after_a_console_edit_is_not_taken_in_and_neither_side_is_lost(
        engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "lessons"
    _write(folder, "flood", TEXT)
    _take_in(engine, folder)
    assert _console_edit(engine, folder, "控制台改过的正文。", based_on=1) == 2
    _take_in(engine, folder)  # the file did not change since: still the console's version
    assert _current(engine, folder).body == "控制台改过的正文。"

    _write(folder, "flood", TEXT.replace("注意安全", "文件里改的"))
    with caplog.at_level(logging.WARNING, logger="bot.domain.lesson_library"):
        _take_in(engine, folder)
    assert "flood.md" in caplog.text
    assert _current(engine, folder).body == "控制台改过的正文。"
    assert "文件里改的" in (folder / "flood.md").read_text(encoding="utf-8")
    with session(engine) as db:
        assert library.conflicts(db) == ["flood"]
        entry = library.entry(db, folder, "flood")
    assert entry is not None and entry.conflict
    assert [n for n, _, _ in _history(engine)] == [2, 1]


def test_keeping_the_consoles_version_settles_it_until_the_file_changes_again(
        engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "lessons"
    _write(folder, "flood", TEXT)
    _take_in(engine, folder)
    _console_edit(engine, folder, "控制台改过的正文。", based_on=1)
    _write(folder, "flood", TEXT.replace("注意安全", "文件里改的"))
    _take_in(engine, folder)
    with session(engine) as db:
        assert library.resolve_conflict(db, folder, "flood", use_file=False)
    _take_in(engine, folder)
    with session(engine) as db:
        assert library.conflicts(db) == []
    assert _current(engine, folder).body == "控制台改过的正文。"
    _write(folder, "flood", TEXT.replace("注意安全", "又改了一次"))
    _take_in(engine, folder)
    with session(engine) as db:
        assert library.conflicts(db) == ["flood"]


def test_using_the_files_version_takes_it_in_as_the_newest(
        engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "lessons"
    _write(folder, "flood", TEXT)
    _take_in(engine, folder)
    _console_edit(engine, folder, "控制台改过的正文。", based_on=1)
    _write(folder, "flood", TEXT.replace("注意安全", "文件里改的"))
    _take_in(engine, folder)
    with session(engine) as db:
        assert library.resolve_conflict(db, folder, "flood", use_file=True)
        assert library.conflicts(db) == []
    assert "文件里改的" in _current(engine, folder).body
    assert _history(engine)[0] == (3, LessonOrigin.FILE, "flood.md")
    with session(engine) as db:
        assert library.version_text(db, "flood", 2) is not None  # the console's text is kept


def test_a_file_changed_to_the_consoles_text_is_simply_in_step(
        engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "lessons"
    _write(folder, "flood", TEXT)
    _take_in(engine, folder)
    _console_edit(engine, folder, "控制台改过的正文。", based_on=1)
    _write(folder, "flood", _current(engine, folder).source)
    _take_in(engine, folder)
    with session(engine) as db:
        assert library.conflicts(db) == []
    assert len(_history(engine)) == 2


def test_a_save_based_on_an_old_version_is_refused_naming_who_saved_since(
        engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "lessons"
    _write(folder, "flood", TEXT)
    _take_in(engine, folder)
    _console_edit(engine, folder, "张委员先改的。", based_on=1, author="张委员")
    with pytest.raises(StaleSave) as refused:
        _console_edit(engine, folder, "王书记后改的。", based_on=1)
    current = refused.value.current
    assert current is not None and (current.number, current.author) == (2, "张委员")
    assert _current(engine, folder).body == "张委员先改的。"


def test_a_new_lesson_cannot_take_a_number_already_used(engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "lessons"
    _write(folder, "flood", TEXT)
    _take_in(engine, folder)
    checked = library.check_form(folder, LessonForm.of(_current(engine, folder)))
    assert checked.lesson is not None
    with pytest.raises(LessonExists), session(engine) as db:
        library.save(db, checked.lesson, based_on=0, author="王书记", new=True)
    assert len(_history(engine)) == 1


def test_form_problems_are_told_beside_their_fields_in_the_checks_words(tmp_path: Path) -> None:
    form = LessonForm(slug="Bad Name", title="", speaker="李支书", date="2026-02-30",
                      tags="", summary="s", speech_profile="火星", body="x" * (MAX_BODY_CHARS + 1))
    checked = library.check_form(tmp_path, form)
    assert checked.lesson is None
    assert set(checked.problems) == {"slug", "title", "date", "tags", "speech_profile", "body"}
    assert "文件名" in checked.problems["slug"][0]
    assert "不能是空的" in checked.problems["title"][0]
    assert "这一天不存在" in checked.problems["date"][0]
    assert "未知的方言风格" in checked.problems["speech_profile"][0]
    assert "正文太长" in checked.problems["body"][0]
    empty = library.check_form(tmp_path, LessonForm(slug="ok", title="t", speaker="s",
                                                    date="2026-01-01", tags="a，b", summary="s"))
    assert list(empty.problems) == ["body"]


def test_restoring_a_version_saves_its_text_as_the_newest(engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "lessons"
    _write(folder, "flood", TEXT)
    _take_in(engine, folder)
    _console_edit(engine, folder, "改坏了的正文。", based_on=1)
    with session(engine) as db:
        restored = library.restore(db, folder, "flood", 1, based_on=2, author="王书记")
    assert restored is not None and restored.number == 3
    assert _current(engine, folder).source == TEXT
    assert _history(engine)[0] == (3, LessonOrigin.CONSOLE, "王书记")


def test_a_deleted_file_leaves_the_lesson_and_an_archived_one_is_hidden(
        engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "lessons"
    _write(folder, "flood", TEXT)
    _take_in(engine, folder)
    (folder / "flood.md").unlink()
    with session(engine) as db:
        assert [lesson.slug for lesson in library.take_in_files(db, folder).lessons] == ["flood"]
        assert library.set_archived(db, "flood", True)
    with session(engine) as db:
        assert library.all_lessons(db, folder) == []
        assert library.current_lesson(db, folder, "flood") is None
        assert library.current_lesson(db, folder, "flood", archived=True) is not None


def _posted(engine: Engine) -> list[str]:
    with session(engine) as db:
        return [m.text for m in db.exec(select(ChatMessage).order_by(col(ChatMessage.id)))
                if m.from_bot and m.text]


def _schedule_now(engine: Engine, slug: str, groups: int = 1) -> None:
    with session(engine) as db:
        made = [Group(platform="web", chat_id=f"g{i}", name=f"第{i}组") for i in range(groups)]
        db.add_all(made)
        db.flush()
        add_schedule(db, slug, [(g.id or 0, g.timezone) for g in made],
                     run_at=utcnow() + timedelta(seconds=1))


async def test_a_file_edited_while_the_bot_runs_is_what_gets_posted(
        settings: Settings, lessons_copy: Path) -> None:
    settings = replace(settings, lessons_dir=lessons_copy)
    file = lessons_copy / "ebike-charging.md"
    async with running(settings) as bot:
        engine = bot.app[ENGINE]
        file.write_text(file.read_text(encoding="utf-8").replace(
            "乡亲们", "各位老乡们"), encoding="utf-8")
        _schedule_now(engine, "ebike-charging", groups=4)  # four posts take the file in at once
        await bot.app[SCHEDULER].rearm()
        posted = await eventually(lambda: [t for t in _posted(engine) if "微党课" in t]
                                  if len([t for t in _posted(engine) if "微党课" in t]) == 4
                                  else [])
        assert all("各位老乡们" in text for text in posted)
        assert _history(engine, "ebike-charging")[0] == (2, LessonOrigin.FILE,
                                                          "ebike-charging.md")


async def test_a_posting_of_an_archived_lesson_fails_saying_why(settings: Settings) -> None:
    async with running(settings) as bot:
        engine = bot.app[ENGINE]
        _schedule_now(engine, "village-rules")
        with session(engine) as db:
            assert library.set_archived(db, "village-rules", True)
        await bot.app[SCHEDULER].rearm()

        def failed() -> list[Delivery]:
            with session(engine) as db:
                return list(db.exec(select(Delivery).where(
                    col(Delivery.status) == DeliveryStatus.FAILED)))

        [delivery] = await eventually(failed)
        assert delivery.error and "archived" in delivery.error
        assert not [t for t in _posted(engine) if "微党课" in t]
