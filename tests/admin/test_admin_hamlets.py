"""The console's 屋场: a group's hamlets added, renamed and removed, members placed in one, a
suggestion's hamlet corrected (kept in its history), and a night talk's participants."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlmodel import col, select

from bot.app import ENGINE
from bot.core.db import session
from bot.core.models import (
    AttendanceHow,
    Group,
    Hamlet,
    Member,
    Role,
    Suggestion,
    SuggestionChange,
    SuggestionStatus,
)
from bot.domain.attendance import add_named, check_in, set_walk_ins
from bot.domain.nighttalks import open_night_talk, schedule_night_talk
from bot.settings import Settings
from scheduler.dbtypes import utcnow
from tests.support.console import (
    add_account,
    add_group,
    add_suggestions,
    console_app,
    visitor,
)

HAMLET_ROW = re.compile(r'data-testid="hamlet-row" data-hamlet="([^"]+)"')


def hamlet_ids(bot: object, group_id: int) -> dict[str, int]:
    with session(bot.app[ENGINE]) as db:  # type: ignore[attr-defined]
        rows = db.exec(select(Hamlet).where(Hamlet.group_id == group_id))
        return {row.name: row.id or 0 for row in rows}


async def test_an_admin_lists_renames_and_removes_hamlets_and_places_members(
    settings: Settings
) -> None:
    async with console_app(settings) as bot, visitor(bot) as guest:
        add_account(bot, "root", Role.ADMIN)
        group_id = add_group(bot, "枫树村大群", hamlet="枫树屋场")
        other = add_group(bot, "杨柳村群", chat_id="yangliu", hamlet="杨柳屋场")
        with session(bot.app[ENGINE]) as db:
            db.add(Member(group_id=group_id, user_id="u-zhang", display_name="张大爷"))
        [kept] = add_suggestions(bot, group_id, [SuggestionStatus.NEW])
        assert (await guest.sign_in("root")).status == 302
        page = f"/admin/groups/{group_id}"
        assert "还没有列出屋场" in (await guest.get(page))[1]
        token = await guest.token(page)
        for name in ("上湾", "下湾"):
            await guest.post(page + "/hamlets", {"name": name}, token)
        again = await guest.post(page + "/hamlets", {"name": "上湾"}, token)
        assert "已经有「上湾」这个屋场了" in (await guest.get(again.headers["Location"]))[1]
        blank = await guest.post(page + "/hamlets", {"name": "  "}, token)
        assert "屋场名不能是空的" in (await guest.get(blank.headers["Location"]))[1]
        html = (await guest.get(page))[1]
        assert HAMLET_ROW.findall(html) == ["上湾", "下湾"]

        ids = hamlet_ids(bot, group_id)
        html = (await guest.get(page + "?q=张"))[1]
        assert 'data-testid="member-hamlet-select"' in html
        placed = await guest.post(page + "/member-hamlet",
                                  {"user_id": "u-zhang", "hamlet": str(ids["上湾"])}, token)
        assert "张大爷 现在属于「上湾」" in (await guest.get(placed.headers["Location"]))[1]
        with session(bot.app[ENGINE]) as db:
            db.add(Hamlet(group_id=other, name="杨柳上屋场"))
        foreign = hamlet_ids(bot, other)["杨柳上屋场"]
        refused = await guest.post(page + "/member-hamlet",
                                   {"user_id": "u-zhang", "hamlet": str(foreign)}, token)
        assert "请从这个群的屋场里选" in (await guest.get(refused.headers["Location"]))[1]
        assert (await guest.post(f"{page}/hamlets/{foreign}/rename", {"name": "x"},
                                 token)).status == 404

        with session(bot.app[ENGINE]) as db:
            suggestion = db.get(Suggestion, kept)
            assert suggestion is not None
            suggestion.hamlet = "上湾"
            db.add(suggestion)
        renamed = await guest.post(f"{page}/hamlets/{ids['上湾']}/rename", {"name": "上湾屋场"},
                                   token)
        html = (await guest.get(renamed.headers["Location"]))[1]
        assert "屋场已改名为「上湾屋场」" in html
        assert HAMLET_ROW.findall(html) == ["上湾屋场", "下湾"]
        assert "1 人" in html
        removed = await guest.post(f"{page}/hamlets/{ids['下湾']}/remove", {}, token)
        assert "已删除屋场「下湾」" in (await guest.get(removed.headers["Location"]))[1]

        with session(bot.app[ENGINE]) as db:
            member = db.exec(select(Member).where(Member.user_id == "u-zhang")).one()
            assert member.hamlet_id == ids["上湾"]  # moved with the rename, not to the other group
            assert set(hamlet_ids(bot, group_id)) == {"上湾屋场"}
            suggestion = db.get(Suggestion, kept)
            assert suggestion is not None and suggestion.hamlet == "上湾"  # as recorded
        cleared = await guest.post(page + "/member-hamlet", {"user_id": "u-zhang", "hamlet": ""},
                                   token)
        assert "现在不属于任何屋场" in (await guest.get(cleared.headers["Location"]))[1]


async def test_a_secretary_corrects_a_suggestions_hamlet_and_the_history_keeps_it(
    settings: Settings
) -> None:
    async with console_app(settings) as bot, visitor(bot) as guest:
        add_account(bot, "wang", Role.SECRETARY, "王书记")
        group_id = add_group(bot, "枫树村大群", hamlet="枫树屋场")
        with session(bot.app[ENGINE]) as db:
            db.add(Hamlet(group_id=group_id, name="上湾"))
            db.add(Hamlet(group_id=group_id, name="下湾"))
        [number] = add_suggestions(bot, group_id, [SuggestionStatus.ADOPTED])
        assert (await guest.sign_in("wang")).status == 302
        page = f"/admin/suggestions/{number}"
        html = (await guest.get(page))[1]
        select_html = html[html.index('data-testid="hamlet-select"'):]
        select_html = select_html[:select_html.index("</select>")]
        assert re.findall(r'<option value="([^"]+)"', select_html) == ["上湾", "下湾", "枫树屋场"]
        token = await guest.token(page)
        wrong = await guest.post(page + "/hamlet", {"hamlet": "杨柳屋场"}, token)
        assert "不是这条建议所在群的屋场" in (await guest.get(wrong.headers["Location"]))[1]
        unpicked = await guest.post(page + "/hamlet", {}, token)
        assert "请从列表里选一个屋场" in (await guest.get(unpicked.headers["Location"]))[1]
        done = await guest.post(page + "/hamlet", {"hamlet": "下湾"}, token)
        html = (await guest.get(done.headers["Location"]))[1]
        assert f"第 {number} 号建议的屋场已改好" in html
        assert 'data-testid="detail-hamlet">下湾<' in html
        assert "王书记：屋场从「枫树屋场」改为「下湾」" in html
        with session(bot.app[ENGINE]) as db:
            row = db.get(Suggestion, number)
            assert row is not None
            assert (row.hamlet, row.status) == ("下湾", SuggestionStatus.ADOPTED)
            [step] = db.exec(select(SuggestionChange).order_by(col(SuggestionChange.id))).all()
            assert step.from_status == step.to_status == SuggestionStatus.ADOPTED


async def test_a_night_talks_page_shows_who_came(settings: Settings) -> None:
    async with console_app(settings) as bot, visitor(bot) as guest:
        add_account(bot, "li", Role.FACILITATOR, "李伯")
        group_id = add_group(bot, "枫树村大群")
        with session(bot.app[ENGINE]) as db:
            group = db.get(Group, group_id)
            assert group is not None
            talk = schedule_night_talk(db, group=group, topic="修路",
                                       starts_at=utcnow() + timedelta(minutes=5))
            assert talk.id is not None
            talk_id = talk.id
            open_night_talk(db, talk_id)
            check_in(db, talk_id, "u-zhang", "张大爷")
            check_in(db, talk_id, "u-li", "李婶", AttendanceHow.SUGGESTION)
            add_named(db, talk, ["王五"])
            set_walk_ins(db, talk, 20)
        assert (await guest.sign_in("li")).status == 302
        html = (await guest.get(f"/admin/talks/{talk_id}"))[1]
    assert "到场 23 人（群里签到 2 人，现场 21 人）" in html
    people = re.findall(r'data-testid="attendee">([^<]+) <small>([^<]+)</small>', html)
    assert people == [("张大爷", "群里签到"), ("李婶", "提了建议"), ("王五", "现场")]
    assert "另有现场 20 人没记名字" in html
