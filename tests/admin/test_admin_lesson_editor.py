"""Writing and editing lessons in the console over real HTTP: checks, versions, conflicts."""

from __future__ import annotations

import html as markup
import re
import shutil
from dataclasses import replace
from pathlib import Path

from bot.app import ENGINE
from bot.core.db import session
from bot.core.models import Role
from bot.domain import lesson_library as library
from bot.settings import Settings
from tests.support.console import Visitor, add_account, add_group, console_app, visitor
from tests.support.fake_edge import FakeEdge
from tests.support.polling import eventually

BODY = ("乡亲们好，今天我们讲一讲汛期的安全常识。\n\n"
        "下大雨的时候，请不要到河边和水塘边去看水。\n\n"
        "家里有老人小孩的，要提前商量好往高处走的路线。")
FIELDS = {"title": "汛期安全", "speaker": "李支书", "date": "2026-06-01", "tags": "防汛，安全",
          "summary": "汛期怎么保平安", "speech_profile": "", "body": BODY}


def _problems(page: str, name: str) -> list[str]:
    return re.findall(rf'data-testid="problem-{name}">([^<]*)<', page)


def _textarea(page: str) -> str:
    found = re.search(r'data-testid="field-body">([^<]*)</textarea>', page)
    assert found, page
    return markup.unescape(found[1])


async def _write(guest: Visitor, slug: str, action: str = "save", **changes: str
                 ) -> tuple[int, str]:
    """Fill in the new-lesson form and press a button; the page that follows."""
    token = await guest.token("/admin/lessons/new")
    sent = await guest.post("/admin/lessons/new", {**FIELDS, "slug": slug, "action": action,
                                                   "based_on": "0", **changes}, token)
    if sent.status == 302:
        return 302, (await guest.get(sent.headers["Location"]))[1]
    return sent.status, await sent.text()


async def _edit(guest: Visitor, slug: str, based_on: str, **changes: str) -> tuple[int, str]:
    page = f"/admin/lessons/{slug}/edit"
    sent = await guest.post(page, {**FIELDS, "action": "save", "based_on": based_on, **changes},
                            await guest.token(page))
    if sent.status == 302:
        return 302, (await guest.get(sent.headers["Location"]))[1]
    return sent.status, await sent.text()


async def test_a_lesson_with_mistakes_is_not_saved_and_each_mistake_is_named_beside_its_field(
        settings: Settings) -> None:
    async with console_app(settings) as bot, visitor(bot) as guest:
        add_account(bot, "libo", Role.FACILITATOR, "李波")
        await guest.sign_in("libo")
        status, page = await _write(guest, "Flood Safety", title="", date="2026-02-30",
                                    body="")
        assert status == 400
        assert "文件名" in _problems(page, "slug")[0]
        assert "不能是空的" in _problems(page, "title")[0]
        assert "这一天不存在" in _problems(page, "date")[0]
        assert "正文是空的" in _problems(page, "body")[0]
        assert 'value="汛期怎么保平安"' in page  # what was typed stays in the form
        with session(bot.app[ENGINE]) as db:
            assert library.entry(db, settings.lessons_dir, "flood-safety") is None
        assert (await guest.get("/admin/lessons/flood-safety"))[0] == 404


async def test_a_new_lesson_is_previewed_without_saving_then_saved_with_its_author(
        settings: Settings) -> None:
    async with console_app(settings) as bot, visitor(bot) as guest:
        add_account(bot, "libo", Role.FACILITATOR, "李波")
        await guest.sign_in("libo")
        status, page = await _write(guest, "flood-safety", action="preview",
                                    preview_profile="湘")
        assert status == 200 and "还没有保存" in page
        assert page.count('data-testid="pair-row"') == 3
        assert (await guest.get("/admin/lessons/flood-safety"))[0] == 404

        status, page = await _write(guest, "flood-safety")
        assert status == 302 and "已保存《汛期安全》第 1 版" in page
        assert re.search(r'data-testid="version-author">李波<', page)
        library_page = (await guest.get("/admin/lessons"))[1]
        assert 'href="/admin/lessons/flood-safety"' in library_page

        status, page = await _write(guest, "flood-safety", title="另一课")
        assert status == 400 and "已经有课程用了" in _problems(page, "slug")[0]


async def test_a_new_lesson_cannot_take_the_number_of_a_file_just_put_in_the_folder(
        settings: Settings, lessons_copy: Path) -> None:
    settings = replace(settings, lessons_dir=lessons_copy)
    async with console_app(settings) as bot, visitor(bot) as guest:
        add_account(bot, "libo", Role.FACILITATOR, "李波")
        await guest.sign_in("libo")
        shutil.copy(lessons_copy / "ebike-charging.md", lessons_copy / "flood-safety.md")
        status, page = await _write(guest, "flood-safety")
        assert status == 400 and "已经有课程用了" in _problems(page, "slug")[0]
        lesson = (await guest.get("/admin/lessons/flood-safety"))[1]
        assert "汛期安全" not in lesson  # the file's lesson, untouched


async def test_editing_keeps_every_version_and_an_old_one_can_be_restored(
        settings: Settings) -> None:
    async with console_app(settings) as bot, visitor(bot) as guest:
        add_account(bot, "libo", Role.FACILITATOR, "李波")
        await guest.sign_in("libo")
        await _write(guest, "flood-safety")
        form = (await guest.get("/admin/lessons/flood-safety/edit"))[1]
        assert _textarea(form) == BODY and 'name="based_on" value="1"' in form
        status, page = await _edit(guest, "flood-safety", "1",
                                   body=BODY.replace("看水", "看热闹"))
        assert status == 302 and "第 2 版" in page
        assert page.count('data-testid="version-row"') == 2

        version = (await guest.get("/admin/lessons/flood-safety/versions/1"))[1]
        assert "看水" in version and "李波" in version
        restore = "/admin/lessons/flood-safety/versions/1/restore"
        sent = await guest.post(restore, {"based_on": "2"},
                                await guest.token("/admin/lessons/flood-safety/versions/1"))
        page = (await guest.get(sent.headers["Location"]))[1]
        assert "恢复成最新的第 3 版" in page
        assert "看水" in page and "看热闹" not in page


async def test_a_save_over_someone_elses_newer_version_is_refused_keeping_the_text(
        settings: Settings) -> None:
    async with console_app(settings) as bot, visitor(bot) as first, visitor(bot) as second:
        add_account(bot, "libo", Role.FACILITATOR, "李波")
        add_account(bot, "zhang", Role.FACILITATOR, "张芳")
        await first.sign_in("libo")
        await second.sign_in("zhang")
        await _write(first, "flood-safety")
        assert (await _edit(first, "flood-safety", "1", title="李波改的标题"))[0] == 302
        status, page = await _edit(second, "flood-safety", "1", body="张芳写的新正文。")
        assert status == 409
        assert "李波" in page and "第 2 版" in page
        assert _textarea(page) == "张芳写的新正文。"
        lesson = (await second.get("/admin/lessons/flood-safety"))[1]
        assert "李波改的标题" in lesson and "张芳写的新正文" not in lesson


async def test_a_file_edited_after_a_console_edit_waits_for_a_choice_and_each_choice_holds(
        settings: Settings, lessons_copy: Path) -> None:
    settings = replace(settings, lessons_dir=lessons_copy)
    file = lessons_copy / "ebike-charging.md"
    original = file.read_text(encoding="utf-8")
    async with console_app(settings) as bot, visitor(bot) as guest:
        add_account(bot, "libo", Role.FACILITATOR, "李波")
        await guest.sign_in("libo")
        form = (await guest.get("/admin/lessons/ebike-charging/edit"))[1]
        fields = {name: markup.unescape(value) for name, value in
                  re.findall(r'name="(title|speaker|date|tags|summary)" value="([^"]*)"', form)}
        await _edit(guest, "ebike-charging", "1", **fields, body="控制台改的正文。")
        file.write_text(original.replace("乡亲们", "老乡们"), encoding="utf-8")

        page = (await guest.get("/admin/lessons"))[1]
        assert "ebike-charging.md 在控制台修改之后也被改过" in page
        page = (await guest.get("/admin/lessons/ebike-charging"))[1]
        assert 'data-testid="lesson-conflict"' in page and "控制台改的正文" in page
        assert "老乡们" in file.read_text(encoding="utf-8")

        token = await guest.token("/admin/lessons/ebike-charging")
        await guest.post("/admin/lessons/ebike-charging/conflict", {"keep": "console"}, token)
        page = (await guest.get("/admin/lessons/ebike-charging"))[1]
        assert 'data-testid="lesson-conflict"' not in page and "控制台改的正文" in page

        file.write_text(original.replace("乡亲们", "各位乡亲"), encoding="utf-8")
        page = (await guest.get("/admin/lessons/ebike-charging"))[1]
        assert 'data-testid="lesson-conflict"' in page
        token = await guest.token("/admin/lessons/ebike-charging")
        await guest.post("/admin/lessons/ebike-charging/conflict", {"keep": "file"}, token)
        page = (await guest.get("/admin/lessons/ebike-charging"))[1]
        assert 'data-testid="lesson-conflict"' not in page
        assert "各位乡亲" in page and "控制台改的正文" not in page
        assert page.count('data-testid="version-row"') == 3


async def test_a_file_edited_while_the_form_is_open_is_not_overwritten_by_the_save(
        settings: Settings, lessons_copy: Path) -> None:
    settings = replace(settings, lessons_dir=lessons_copy)
    file = lessons_copy / "ebike-charging.md"
    async with console_app(settings) as bot, visitor(bot) as guest:
        add_account(bot, "libo", Role.FACILITATOR, "李波")
        await guest.sign_in("libo")
        form = (await guest.get("/admin/lessons/ebike-charging/edit"))[1]
        assert 'name="based_on" value="1"' in form
        file.write_text(file.read_text(encoding="utf-8").replace("乡亲们", "老乡们"),
                        encoding="utf-8")
        status, page = await _edit(guest, "ebike-charging", "1", body="控制台改的正文。")
        assert status == 409 and "课程文件 ebike-charging.md" in page and "第 2 版" in page
        assert _textarea(page) == "控制台改的正文。"
        lesson = (await guest.get("/admin/lessons/ebike-charging"))[1]
        assert "老乡们" in lesson and "控制台改的正文" not in lesson


async def test_an_archived_lesson_leaves_the_library_and_cannot_be_scheduled(
        settings: Settings) -> None:
    async with console_app(settings) as bot, visitor(bot) as guest:
        add_account(bot, "libo", Role.FACILITATOR, "李波")
        group_id = add_group(bot, "枫树屋场群")
        await guest.sign_in("libo")
        page = "/admin/lessons/village-rules"
        sent = await guest.post(page + "/archive", {"archived": "1"}, await guest.token(page))
        assert "已归档" in (await guest.get(sent.headers["Location"]))[1]
        assert 'href="/admin/lessons/village-rules"' not in (await guest.get("/admin/lessons"))[1]
        archived = (await guest.get("/admin/lessons?archived=1"))[1]
        assert 'href="/admin/lessons/village-rules"' in archived

        sent = await guest.post(page + "/schedule", [
            ("group", str(group_id)), ("mode", "daily"), ("time", "20:00")],
            await guest.token(page))
        assert "已归档，不能安排发送" in (await guest.get(page))[1]

        sent = await guest.post(page + "/archive", {"archived": "0"}, await guest.token(page))
        assert 'href="/admin/lessons/village-rules"' in (await guest.get("/admin/lessons"))[1]


async def test_editing_one_sentence_makes_only_that_sentence_anew(
        settings: Settings, fake_edge: FakeEdge) -> None:
    async with console_app(settings) as bot, visitor(bot) as guest:
        add_account(bot, "libo", Role.FACILITATOR, "李波")
        await guest.sign_in("libo")
        await _write(guest, "flood-safety")
        page = "/admin/lessons/flood-safety"

        async def voiced() -> bool:
            async with guest.http.get(bot.url + page + "/voice") as response:
                return (await response.json())["普通话"]["state"] == "ready"

        await guest.post(page + "/voice", {"profile": "普通话"}, await guest.token(page))
        await eventually(voiced, within=20.0)
        before = len(fake_edge.requests)
        assert before >= 3  # a sentence a segment (a long one may be cut at a comma)

        await _edit(guest, "flood-safety", "1", body=BODY.replace("看水", "看涨水"))
        await guest.post(page + "/voice", {"profile": "普通话"}, await guest.token(page))
        await eventually(voiced, within=20.0)
        [again] = fake_edge.requests[before:]
        assert "看涨水" in again.text


async def test_listening_to_the_previewed_text_plays_its_voice_without_saving(
        settings: Settings) -> None:
    async with console_app(settings) as bot, visitor(bot) as guest:
        add_account(bot, "libo", Role.FACILITATOR, "李波")
        await guest.sign_in("libo")
        status, page = await _write(guest, "flood-safety", action="listen")
        assert status == 200
        found = re.search(r'data-listen-poll="([^"]+)"', page)
        assert found

        async def ready() -> str:
            async with guest.http.get(bot.url + markup.unescape(found[1])) as response:
                state = await response.json()
            assert state["state"] in ("working", "ready"), state
            return str(state["url"]) if state["state"] == "ready" else ""

        url = await eventually(ready, within=20.0)
        async with guest.http.get(bot.url + url) as audio:
            assert audio.status == 200 and len(await audio.read()) > 6000
        assert (await guest.get("/admin/lessons/flood-safety"))[0] == 404
