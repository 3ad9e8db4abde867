"""The console's suggestions board: filter, reply and tell the group, merge, type voice, escape."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import aiohttp
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.adapters.media import prepare_voice, save_voice
from bot.app import ENGINE
from bot.core.db import session
from bot.core.models import ChatMessage, Group, SuggestionChange, SuggestionStatus
from bot.domain.board import BoardFilter, board, parse_board_filter
from bot.domain.merging import merge_suggestion, unmerge_suggestion
from bot.domain.suggestions import SuggestionError, add_suggestion, change_status, get_suggestion
from bot.reports import ReportFilter, figures
from bot.settings import Settings
from tests.support.app import running
from tests.support.builders import add_group
from tests.support.console_village import (
    FACILITATOR_LOGIN,
    bot_messages,
    prepare_console,
    signed_in,
)
from tests.support.recordings import recording
from tests.support.village import (
    ROOM,
    ZHANG,
    joined,
    points_of,
)

S = SuggestionStatus
ROW_NUMBER = re.compile(r'data-testid="suggestion-row" data-number="(\d+)"')


def at(month: int, day: int, hour: int = 20) -> datetime:
    """A village wall-clock time in 2026 (Asia/Shanghai), stored as aware UTC."""
    return datetime(2026, month, day, hour, tzinfo=UTC) - timedelta(hours=8)


def numbers_on(html: str) -> list[int]:
    """The suggestion numbers listed on a board page, top to bottom."""
    return [int(n) for n in ROW_NUMBER.findall(html)]


def raise_in(engine: Engine, chat_id: str, message_id: str, text: str, when: datetime,
             author: tuple[str, str] = ZHANG, **extra: object) -> int:
    with session(engine) as db:
        group = db.exec(select(Group).where(Group.chat_id == chat_id)).one()
        row, _ = add_suggestion(db, group=group, platform="web", chat_id=chat_id,
                                message_id=message_id, author_id=author[0],
                                author_name=author[1], text=text, now=when,
                                **extra)  # type: ignore[arg-type]
        assert row.id is not None
        return row.id


def move(engine: Engine, number: int, to: SuggestionStatus, reply: str = "") -> None:
    with session(engine) as db:
        change_status(db, number, to, actor_id="sec", actor_name="王书记", reply=reply)


def seed_board(engine: Engine) -> None:
    """Six suggestions in two groups over three months, in several topics and states."""
    raise_in(engine, ROOM, "m1", "村口路灯坏了", at(3, 5))           # 1 roads, March
    raise_in(engine, ROOM, "m2", "后山水渠堵了", at(3, 20))          # 2 water, March
    raise_in(engine, "yangliu", "m3", "垃圾没人清运", at(4, 2))      # 3 waste, April
    raise_in(engine, "yangliu", "m4", "去镇上的路全是坑", at(4, 10))  # 4 roads, April
    raise_in(engine, ROOM, "m5", "桥要加护栏", at(5, 1))             # 5 roads, May
    raise_in(engine, ROOM, "m6", "夏天老是停水", at(5, 31, 23))      # 6 water, 31 May 23:00
    move(engine, 1, S.ADOPTED, "下个月装")
    move(engine, 4, S.DECLINED, "镇里统一修")


# --- the board and merging, as plain functions over a session -----------------------------------

@pytest.fixture
def engine(engine: Engine) -> Engine:
    """The shared migrated engine, with two rooms and six suggestions over three months."""
    add_group(engine, "枫树村大群", chat_id=ROOM, hamlet="上屋场")
    add_group(engine, "杨柳村群", chat_id="yangliu", hamlet="杨柳屋场")
    seed_board(engine)
    return engine


def shown(engine: Engine, f: BoardFilter, page: int = 1, per_page: int = 50
          ) -> tuple[list[int], int]:
    with session(engine) as db:
        rows, total = board(db, f, page, per_page)
    return [row.id for row in rows if row.id is not None], total


def test_board_lists_newest_first_and_narrows_by_each_filter(engine: Engine) -> None:
    assert shown(engine, BoardFilter()) == ([6, 5, 4, 3, 2, 1], 6)
    may = BoardFilter(start=date(2026, 5, 1), end=date(2026, 5, 31))
    assert shown(engine, may) == ([6, 5], 2)  # 23:00 on 31 May is still May in the village
    assert shown(engine, BoardFilter(end=date(2026, 3, 31)))[0] == [2, 1]
    assert shown(engine, BoardFilter(group_id=2))[0] == [4, 3]
    assert shown(engine, BoardFilter(hamlet="上屋场"))[0] == [6, 5, 2, 1]
    assert shown(engine, BoardFilter(topic="roads"))[0] == [5, 4, 1]
    assert shown(engine, BoardFilter(status=S.NEW))[0] == [6, 5, 3, 2]
    assert shown(engine, BoardFilter(topic="roads", status=S.NEW))[0] == [5]
    assert shown(engine, BoardFilter(text="水"))[0] == [6, 2]


def test_board_pages_hold_the_rest_and_count_them_all(engine: Engine) -> None:
    assert shown(engine, BoardFilter(), page=1, per_page=4) == ([6, 5, 4, 3], 6)
    assert shown(engine, BoardFilter(), page=2, per_page=4) == ([2, 1], 6)


def test_board_filter_reads_a_bookmarked_address_and_names_what_it_cannot_read() -> None:
    f = parse_board_filter({"from": "2026-03-01", "to": "2026-03-31", "group": "2",
                            "hamlet": "上屋场", "topic": "roads", "status": "adopted"})
    assert (f.start, f.end, f.group_id, f.hamlet, f.topic, f.status) == (
        date(2026, 3, 1), date(2026, 3, 31), 2, "上屋场", "roads", S.ADOPTED)
    assert parse_board_filter(f.query()) == f
    odd = parse_board_filter({"from": "三月", "topic": "<b>", "status": "lost", "group": "x"})
    assert odd == BoardFilter()
    assert odd.problems == ("日期「三月」看不懂，请写成 2026-01-01 这样。",)
    backwards = parse_board_filter({"from": "2026-05-01", "to": "2026-03-01"})
    assert backwards.start is None and "晚于" in backwards.problems[0]


def test_a_merged_duplicate_is_hidden_left_out_of_figures_and_keeps_its_history(
    engine: Engine
) -> None:
    year = ReportFilter(date(2026, 1, 1), date(2026, 12, 31))
    with session(engine) as db:
        assert figures(db, year).collected == 6
        merge_suggestion(db, 5, 1, actor_id="sec", actor_name="王书记")
    assert shown(engine, BoardFilter())[0] == [6, 4, 3, 2, 1]
    assert shown(engine, BoardFilter(merged=True))[0] == [6, 5, 4, 3, 2, 1]
    with session(engine) as db:
        assert figures(db, year).collected == 5
        merged = get_suggestion(db, 5)
        steps = db.exec(select(SuggestionChange).where(SuggestionChange.suggestion_id == 5)
                        ).all()
    assert merged.merged_into == 1 and merged.status is S.NEW and merged.text == "桥要加护栏"
    assert [(s.actor_name, s.reply) for s in steps] == [("王书记", "作为重复建议并入第 1 号")]
    with session(engine) as db:
        unmerge_suggestion(db, 5, actor_id="sec", actor_name="王书记")
        assert figures(db, year).collected == 6


def test_merging_refuses_itself_twice_and_in_a_circle_and_keeps_chains_short(
    engine: Engine
) -> None:
    def merge(number: int, into: int) -> None:
        with session(engine) as db:
            merge_suggestion(db, number, into, actor_id="sec", actor_name="王书记")

    with pytest.raises(SuggestionError, match="不能并入它自己"):
        merge(2, 2)
    with pytest.raises(SuggestionError, match="没有第 99 号建议"):
        merge(2, 99)
    merge(6, 2)
    with pytest.raises(SuggestionError, match="已经并入第 2 号"):
        merge(6, 1)
    with pytest.raises(SuggestionError, match="第 6 号已经并入第 2 号"):
        merge(2, 6)  # 6 points at 2, so 2 cannot point at 6
    merge(2, 1)  # 2 goes into 1, and 6 (a duplicate of 2) follows it
    merge(3, 6)  # into a merged one: it lands where 6 ended up
    with session(engine) as db:
        assert {n: get_suggestion(db, n).merged_into for n in (2, 3, 6)} == {2: 1, 3: 1, 6: 1}


# --- through the real app over HTTP ---------------------------------------------------------

async def test_board_page_filters_by_period_group_hamlet_topic_and_status(
    settings: Settings
) -> None:
    async with running(settings, prepare_console) as bot, signed_in(bot.url) as secretary:
        seed_board(bot.app[ENGINE])
        status, html = await secretary.get("/admin/suggestions")
        assert status == 200 and numbers_on(html) == [6, 5, 4, 3, 2, 1]
        assert "共 6 条" in html
        for query, expected in (("from=2026-05-01&to=2026-05-31", [6, 5]),
                                ("group=2", [4, 3]), ("hamlet=%E4%B8%8A%E5%B1%8B%E5%9C%BA",
                                                      [6, 5, 2, 1]),
                                ("topic=roads", [5, 4, 1]), ("status=declined", [4]),
                                ("topic=water&status=new&from=2026-03-01", [6, 2])):
            _, html = await secretary.get(f"/admin/suggestions?{query}")
            assert numbers_on(html) == expected, query
        _, html = await secretary.get("/admin/suggestions?status=adopted")
        assert "下个月装" in html and "已采纳" in html  # the reply and the status are shown


async def test_secretary_adopts_with_a_reply_the_group_is_told_and_the_author_earns_points(
    settings: Settings
) -> None:
    async with running(settings, prepare_console) as bot, joined(bot.url, ZHANG) as zhang, \
            signed_in(bot.url) as secretary:
        assert "第 1 号" in await zhang.ask("建议 村口路灯坏了，晚上看不见路")
        before = points_of(bot.app, ZHANG[0])
        status, html = await secretary.post("/admin/suggestions/1/status",
                                            {"status": "adopted", "reply": "下个月装新路灯"},
                                            form_on="/admin/suggestions/1")
        assert status == 200 and "已改为“已采纳”，群里已经通知" in html
        told = await zhang.sees("第 1 号建议")
        assert told.startswith("@张大爷 ")  # mentioned, as in the chat
        assert "（张大爷：村口路灯坏了，晚上看不见路）已采纳" in told
        assert "回复：下个月装新路灯" in told
        with session(bot.app[ENGINE]) as db:
            raised = db.exec(select(ChatMessage).where(
                ChatMessage.text == "建议 村口路灯坏了，晚上看不见路")).one()
            notice = db.exec(select(ChatMessage).where(col(ChatMessage.from_bot))
                             .order_by(col(ChatMessage.id).desc())).first()
            row = get_suggestion(db, 1)
        assert notice is not None and notice.reply_to_id == raised.id  # it quotes the author
        assert (row.status, row.reply, row.handler_name) == (S.ADOPTED, "下个月装新路灯",
                                                             "王书记")
        assert points_of(bot.app, ZHANG[0]) == before + settings.points_adopted
        _, page = await secretary.get("/admin/suggestions/1")
        assert "待处理 → 已采纳（下个月装新路灯）" in page  # the history


async def test_a_refused_step_is_explained_and_nobody_is_told(settings: Settings) -> None:
    async with running(settings, prepare_console) as bot, signed_in(bot.url) as secretary:
        number = raise_in(bot.app[ENGINE], ROOM, "m1", "村口路灯坏了", at(3, 5))
        posted_before = bot_messages(bot.app[ENGINE])
        _, html = await secretary.post(f"/admin/suggestions/{number}/status",
                                       {"status": "declined", "reply": "  "},
                                       form_on=f"/admin/suggestions/{number}")
        assert "暂不采纳要写上理由" in html
        with session(bot.app[ENGINE]) as db:
            assert get_suggestion(db, number).status is S.NEW
        assert bot_messages(bot.app[ENGINE]) == posted_before


async def test_merging_from_the_page_hides_the_duplicate_and_tells_nobody(
    settings: Settings
) -> None:
    async with running(settings, prepare_console) as bot, signed_in(bot.url) as secretary:
        engine = bot.app[ENGINE]
        first = raise_in(engine, ROOM, "m1", "村口路灯坏了", at(3, 5))
        second = raise_in(engine, ROOM, "m2", "路灯坏了没人修", at(3, 6), author=("u-li", "李婶"))
        _, html = await secretary.post(f"/admin/suggestions/{second}/merge",
                                       {"into": f"第{first}号"},
                                       form_on=f"/admin/suggestions/{second}")
        assert "已作为重复并入" in html and "作为重复建议并入第 1 号" in html
        _, board_html = await secretary.get("/admin/suggestions")
        assert numbers_on(board_html) == [first]
        _, all_html = await secretary.get("/admin/suggestions?merged=1")
        assert numbers_on(all_html) == [second, first]
        _, first_page = await secretary.get(f"/admin/suggestions/{first}")
        assert "路灯坏了没人修" in first_page  # listed among its duplicates
        _, html = await secretary.post(f"/admin/suggestions/{second}/unmerge", {},
                                       form_on=f"/admin/suggestions/{second}")
        assert "已恢复单独统计" in html
        assert numbers_on((await secretary.get("/admin/suggestions"))[1]) == [second, first]
        assert bot_messages(engine) == 0


async def test_secretary_listens_to_a_voice_suggestion_and_types_its_text(
    settings: Settings
) -> None:
    async with running(settings, prepare_console) as bot, signed_in(bot.url) as secretary:
        mp3, _seconds = prepare_voice(recording(2.0))
        voice = save_voice(settings.audio_dir, mp3)
        number = raise_in(bot.app[ENGINE], ROOM, "v1", "", at(3, 5), voice_path=str(voice))
        _, html = await secretary.get(f"/admin/suggestions/{number}")
        assert "语音建议，还没有文字" in html
        audio = re.search(r'<audio[^>]*src="(/media/[0-9a-f]+\.mp3)"', html)
        assert audio
        async with secretary.http.get(bot.url + audio.group(1)) as response:
            assert response.status == 200 and await response.read() == mp3
        _, html = await secretary.post(f"/admin/suggestions/{number}/text",
                                       {"text": "村口的路灯坏了，请修一下"},
                                       form_on=f"/admin/suggestions/{number}")
        assert "文字已保存" in html and "村口的路灯坏了，请修一下" in html
        with session(bot.app[ENGINE]) as db:
            row = get_suggestion(db, number)
        assert row.text == "村口的路灯坏了，请修一下" and row.category == "roads"


async def test_markup_in_a_suggestion_is_shown_as_text(settings: Settings) -> None:
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    async with running(settings, prepare_console) as bot, signed_in(bot.url) as secretary:
        number = raise_in(bot.app[ENGINE], ROOM, "x1", attack, at(3, 5),
                          author=("u-x", "<b>坏人</b>"))
        for path in ("/admin/suggestions", f"/admin/suggestions/{number}"):
            _, html = await secretary.get(path)
            assert "<script>alert" not in html and "<img src=x" not in html
            assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
            assert "&lt;b&gt;坏人&lt;/b&gt;" in html


async def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(
    settings: Settings
) -> None:
    async with running(settings, prepare_console) as bot, signed_in(bot.url) as secretary:
        number = raise_in(bot.app[ENGINE], ROOM, "m1", "村口路灯坏了", at(3, 5))
        status, _ = await secretary.post(f"/admin/suggestions/{number}/status",
                                         {"status": "adopted", "reply": "好"}, csrf=False)
        assert status == 403
        with session(bot.app[ENGINE]) as db:
            assert get_suggestion(db, number).status is S.NEW
        assert bot_messages(bot.app[ENGINE]) == 0


async def test_the_board_needs_a_sign_in_and_a_secretary(settings: Settings) -> None:
    async with running(settings, prepare_console) as bot:
        async with aiohttp.ClientSession() as anonymous, \
                anonymous.get(bot.url + "/admin/suggestions?status=new",
                              allow_redirects=False) as response:
            assert response.status == 302
            assert response.headers["Location"].startswith("/admin/login?next=")
        async with signed_in(bot.url, FACILITATOR_LOGIN) as facilitator:
            status, _ = await facilitator.get("/admin/suggestions")
            assert status == 403
        async with signed_in(bot.url) as secretary:
            for missing in ("42", "99999999999999999999"):
                status, _ = await secretary.get(f"/admin/suggestions/{missing}")
                assert status == 404


async def test_secretary_refiles_a_suggestion_under_another_topic(settings: Settings) -> None:
    async with running(settings, prepare_console) as bot, signed_in(bot.url) as secretary:
        number = raise_in(bot.app[ENGINE], ROOM, "m1", "分红什么时候发", at(3, 5))
        _, html = await secretary.post(f"/admin/suggestions/{number}/category",
                                       {"category": "land"},
                                       form_on=f"/admin/suggestions/{number}")
        assert "类别已改好" in html
        with session(bot.app[ENGINE]) as db:
            assert get_suggestion(db, number).category == "land"
        _, html = await secretary.get("/admin/suggestions?topic=land")
        assert numbers_on(html) == [number]
