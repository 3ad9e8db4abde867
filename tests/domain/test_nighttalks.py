"""Night talks as the group sees them in the web chat: announced, reminded, opened, summed up."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select
from typer.testing import CliRunner

from bot.adapters.media import Media
from bot.adapters.webchat.adapter import WebChatAdapter
from bot.cli.main import app
from bot.core.db import open_database, session
from bot.core.models import (
    ChatMessage,
    Group,
    Member,
    NightTalk,
    NightTalkStatus,
    Role,
    Suggestion,
)
from bot.domain.nighttalks import (
    NightTalkError,
    NightTalkHost,
    clock_text,
    next_talk,
    open_talk,
    schedule_night_talk,
    talk_ref,
)
from bot.domain.webchat import WebChatStore
from bot.outbox import Outbox
from scheduler.models import Delivery
from scheduler.service import Scheduler
from scheduler.timers import timers_for

SHANGHAI = ZoneInfo("Asia/Shanghai")
ANNOUNCEMENT = ("【夜话预告】12月5日（星期六）晚上7点半，在枫树屋场，聊聊“村里修路”。主持：李伯。"
                "大家有想法，到时候搬条板凳来坐坐，也可以在群里提。")
HOW_TO_RAISE = "先说“建议”两个字，再说您的想法，或者直接回复这条消息，语音也行。"


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in December 2026, Shanghai time, as aware UTC."""
    return datetime(2026, 12, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


async def no_lessons(_row: Delivery) -> None:
    raise AssertionError("no lesson is scheduled in these tests")


@dataclass
class Village:
    """A web group with the bot running its night talks: engine, host, scheduler."""

    db_url: str
    audio_dir: Path
    engine: Engine
    group_id: int
    host: NightTalkHost
    scheduler: Scheduler

    def restart(self) -> Village:
        """A new process on the same database file: new engine, adapter, outbox, host."""
        self.engine.dispose()
        return start_village(self.db_url, self.audio_dir)

    def schedule(self, *, starts_at: datetime, now: datetime, **details: str) -> int:
        with session(self.engine) as db:
            group = db.get(Group, self.group_id)
            assert group is not None
            talk = schedule_night_talk(db, group=group, topic=details.get("topic", "村里修路"),
                                       starts_at=starts_at, place=details.get("place", "枫树屋场"),
                                       host=details.get("host", "李伯"), now=now)
            assert talk.id is not None
            return talk.id

    def seen(self) -> list[str]:
        """What the group sees from the bot, oldest first."""
        with session(self.engine) as db:
            rows = db.exec(select(ChatMessage).where(ChatMessage.group_id == self.group_id)
                           .order_by(col(ChatMessage.id)))
            return [row.text for row in rows if row.from_bot]

    def talk(self, talk_id: int) -> NightTalk:
        with session(self.engine) as db:
            talk = db.get(NightTalk, talk_id)
            assert talk is not None
            return talk

    def suggest(self, talk_id: int | None, number: int, author: str, text: str = "",
                voice: str | None = None) -> None:
        with session(self.engine) as db:
            db.add(Suggestion(id=number, group_id=self.group_id, night_talk_id=talk_id,
                              platform="web", chat_id="fengshu", message_id=f"m{number}",
                              author_id=f"u-{author}", author_name=author, text=text,
                              voice_path=voice))


def start_village(db_url: str, audio_dir: Path) -> Village:
    engine = open_database(db_url)
    with session(engine) as db:
        group = db.exec(select(Group).where(Group.chat_id == "fengshu")).first()
        if group is None:
            group = Group(platform="web", chat_id="fengshu", name="枫树屋场", hamlet="枫树屋场")
            db.add(group)
            db.flush()
        assert group.id is not None
        group_id = group.id
    web_chat = WebChatAdapter(WebChatStore(engine), Media(audio_dir))
    host = NightTalkHost(engine, Outbox({"web": web_chat}))
    scheduler = Scheduler(engine, no_lessons, grace=timedelta(minutes=30),
                          timer_handlers=host.handlers())
    return Village(db_url, audio_dir, engine, group_id, host, scheduler)


@pytest.fixture
def village(tmp_path: Path) -> Iterator[Village]:
    (tmp_path / "audio").mkdir()
    started = start_village(f"sqlite:///{tmp_path / 'yehua.db'}", tmp_path / "audio")
    yield started
    started.engine.dispose()


async def test_a_whole_night_talk_from_announcement_to_numbered_summary(
    village: Village
) -> None:
    talk_id = village.schedule(starts_at=local(5, 19, 30), now=local(3, 10))
    await village.scheduler.run_due(local(3, 10))
    assert village.seen() == [ANNOUNCEMENT]

    await village.scheduler.run_due(local(4, 20))
    assert village.seen()[-1] == ("【夜话提醒】明天晚上7点半，在枫树屋场，聊聊“村里修路”。"
                                  "主持：李伯。有空搬条板凳来坐坐，有想法也可以先在群里提。")
    await village.scheduler.run_due(local(5, 19))
    assert village.seen()[-1].startswith("【夜话提醒】还有半小时，夜话就开始了：晚上7点半")

    await village.scheduler.run_due(local(5, 19, 30))
    opening = village.seen()[-1]
    assert opening.startswith("【夜话开始】“村里修路”夜话现在开始。主持：李伯。")
    assert HOW_TO_RAISE in opening and "晚上9点半结束" in opening
    talk = village.talk(talk_id)
    assert talk.status == NightTalkStatus.OPEN
    with session(village.engine) as db:
        opening_row = db.exec(select(ChatMessage).where(ChatMessage.text == opening)).one()
        assert talk.open_message_id == str(opening_row.id)
        assert next_talk(db, village.group_id, local(5, 20)) == open_talk(db, village.group_id)

    village.suggest(talk_id, 12, "张大爷", "村口路灯坏了，晚上看不见")
    village.suggest(None, 13, "王婶", "不在夜话里提的，不进总结")
    village.suggest(talk_id, 14, "李婶", voice="a1b2c3d4e5f60718.mp3")
    village.suggest(talk_id, 15, "赵叔", "水渠\n要清淤", voice="0f1e2d3c4b5a6978.mp3")
    await village.scheduler.run_due(local(5, 21, 30))
    assert village.seen()[-1] == "\n".join([
        "【夜话结束】“村里修路”夜话结束了，谢谢大家！本次夜话共收到 3 条建议：",
        "1. 村口路灯坏了，晚上看不见（张大爷，第12号）",
        "2. [语音建议]（李婶，第14号）",
        "3. [语音] 水渠 要清淤（赵叔，第15号）",
        "村里会一条一条研究，办得怎么样，会在群里告诉大家。",
    ])
    assert village.talk(talk_id).status == NightTalkStatus.CLOSED
    await village.scheduler.run_due(local(6, 21, 30))
    assert len(village.seen()) == 5
    with session(village.engine) as db:
        assert open_talk(db, village.group_id) is None
        assert next_talk(db, village.group_id, local(6, 9)) is None


async def test_a_restart_during_an_open_talk_still_closes_it_with_every_suggestion(
    village: Village
) -> None:
    talk_id = village.schedule(starts_at=local(5, 19, 30), now=local(5, 9))
    await village.scheduler.run_due(local(5, 19, 30))
    village.suggest(talk_id, 1, "张大爷", "修村口的路")
    village = village.restart()  # the bot goes down at 20:00 and comes back at 20:10
    assert village.talk(talk_id).status == NightTalkStatus.OPEN
    scheduler = Scheduler(village.engine, no_lessons, timer_handlers=village.host.handlers(),
                          clock=lambda: local(5, 20, 10))
    await scheduler.start()
    await scheduler.stop()
    village.suggest(talk_id, 2, "李婶", "路边装护栏")
    assert village.talk(talk_id).status == NightTalkStatus.OPEN
    await scheduler.run_due(local(5, 21, 30))
    summary = village.seen()[-1]
    assert "共收到 2 条建议" in summary
    assert "1. 修村口的路（张大爷，第1号）" in summary
    assert "2. 路边装护栏（李婶，第2号）" in summary
    village.engine.dispose()


async def test_a_bot_down_for_hours_skips_stale_reminders_but_opens_and_closes_late(
    village: Village
) -> None:
    talk_id = village.schedule(starts_at=local(5, 19, 30), now=local(5, 9))
    await village.scheduler.run_due(local(5, 9))
    # Down from 9:00 until 20:30: the 19:00 reminder is stale, the talk is still on.
    await village.scheduler.run_due(local(5, 20, 30))
    assert [text[:6] for text in village.seen()] == ["【夜话预告】", "【夜话开始】"]
    assert village.talk(talk_id).status == NightTalkStatus.OPEN
    # Down again over the end: closing is never too late.
    await village.scheduler.run_due(local(6, 8))
    assert village.seen()[-1].startswith(
        "【夜话结束】“村里修路”夜话结束了，谢谢大家来坐坐！这次没有收到建议。")
    assert village.talk(talk_id).status == NightTalkStatus.CLOSED


async def test_opening_and_closing_by_hand_post_once_and_the_timers_stand_down(
    village: Village
) -> None:
    talk_id = village.schedule(starts_at=local(5, 19, 30), now=local(5, 9))
    await village.scheduler.run_due(local(5, 9))
    await village.host.open(talk_id, now=local(5, 18))
    await village.host.open(talk_id, now=local(5, 18, 5))
    await village.scheduler.run_due(local(5, 19, 30))  # neither a reminder nor a second opening
    village.suggest(talk_id, 7, "张大爷", "早点开好")
    await village.host.close(talk_id, now=local(5, 19, 45))
    await village.host.close(talk_id, now=local(5, 19, 50))
    await village.scheduler.run_due(local(5, 21, 30))
    seen = village.seen()
    assert [text[:6] for text in seen] == ["【夜话预告】", "【夜话开始】", "【夜话结束】"]
    assert "1. 早点开好（张大爷，第7号）" in seen[-1]
    talk = village.talk(talk_id)
    assert (talk.status, talk.opened_at, talk.closed_at) == (
        NightTalkStatus.CLOSED, local(5, 18), local(5, 19, 45))
    with session(village.engine) as db:
        states = {t.kind: t.status for t in timers_for(db, talk_ref(talk_id))}
    assert states == {"nighttalk.announce": "fired", "nighttalk.remind_30": "cancelled",
                      "nighttalk.open": "fired", "nighttalk.close": "fired"}
    with pytest.raises(NightTalkError, match="已经结束"):
        await village.host.open(talk_id, now=local(5, 20))


async def test_cancelling_an_announced_talk_tells_the_group_and_stops_everything(
    village: Village
) -> None:
    talk_id = village.schedule(starts_at=local(5, 19, 30), now=local(3, 10))
    await village.scheduler.run_due(local(3, 10))
    await village.host.cancel(talk_id, now=local(4, 9))
    await village.host.cancel(talk_id, now=local(4, 9, 1))
    for day, hour in ((4, 20), (5, 19), (5, 19), (5, 21)):
        await village.scheduler.run_due(local(day, hour, 30 if hour == 19 else 0))
    assert village.seen() == [
        ANNOUNCEMENT,
        "【夜话取消】原定12月5日（星期六）晚上7点半的夜话“村里修路”不开了。改了时间，再通知大家。"]
    assert village.talk(talk_id).status == NightTalkStatus.CANCELLED


async def test_a_talk_cancelled_before_its_announcement_goes_unmentioned(
    village: Village
) -> None:
    talk_id = village.schedule(starts_at=local(5, 19, 30), now=local(3, 10))
    await village.host.cancel(talk_id, now=local(3, 10))
    await village.scheduler.run_due(local(5, 22))
    assert village.seen() == []


async def test_a_talk_set_the_same_day_skips_the_evening_before_reminder(
    village: Village
) -> None:
    village.schedule(starts_at=local(5, 19, 30), now=local(5, 10), place="", host="")
    for hour, minute in ((10, 0), (19, 0), (19, 30)):
        await village.scheduler.run_due(local(5, hour, minute))
    seen = village.seen()
    assert seen[0] == ("【夜话预告】12月5日（星期六）晚上7点半，聊聊“村里修路”。"
                       "大家有想法，到时候搬条板凳来坐坐，也可以在群里提。")
    assert [text[:6] for text in seen] == ["【夜话预告】", "【夜话提醒】", "【夜话开始】"]
    assert "明天" not in "".join(seen)


@pytest.mark.parametrize(
    ("starts_at", "ends_at", "message"),
    [
        (local(5, 8), None, "开始时间 12月5日（星期六）早上8点 已经过去了"),
        (local(5, 19, 30), local(5, 19), "结束时间要在开始时间之后"),
        (local(5, 19, 30), local(6, 19), "最长开 12 个小时"),
        (local(5, 20), None, "已经安排了第 1 号夜话（12月5日（星期六）晚上7点半，“村里修路”）"),
    ],
)
def test_impossible_talks_are_refused_in_chinese(
    village: Village, starts_at: datetime, ends_at: datetime | None, message: str
) -> None:
    village.schedule(starts_at=local(5, 19, 30), now=local(5, 9))
    with session(village.engine) as db, pytest.raises(NightTalkError) as error:
        group = db.get(Group, village.group_id)
        assert group is not None
        schedule_night_talk(db, group=group, topic="修水渠", starts_at=starts_at,
                            ends_at=ends_at, now=local(5, 9))
    assert message in str(error.value)
    with session(village.engine) as db:
        assert len(db.exec(select(NightTalk)).all()) == 1


@pytest.mark.parametrize(
    ("hour", "minute", "said"),
    [(19, 30, "晚上7点半"), (8, 0, "早上8点"), (12, 0, "中午12点"), (14, 15, "下午2点15分"),
     (0, 0, "夜里12点"), (10, 5, "上午10点5分")],
)
def test_times_read_the_way_people_say_them(hour: int, minute: int, said: str) -> None:
    assert clock_text(local(5, hour, minute), "Asia/Shanghai") == said


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"YEHUA_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"}


def yehua(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output


def test_cli_night_talk_add_list_open_close_cancel(env: dict[str, str]) -> None:
    assert yehua(env, "groups", "add", "枫树屋场", "--chat-id", "fengshu")[0] == 0
    code, out = yehua(env, "nighttalk", "add", "--group", "fengshu", "--at", "2030-12-05 19:30",
                      "--topic", "村里修路", "--place", "枫树屋场", "--host", "李伯", "--yes")
    assert code == 0, out
    assert "已安排夜话 #1：2030年12月5日（星期四）晚上7点半" in out
    code, out = yehua(env, "nighttalk", "list")
    assert "村里修路" in out and "李伯" in out and "待开始" in out and "晚上9点半" in out
    code, out = yehua(env, "nighttalk", "open", "1")
    assert code == 0 and "夜话 #1 已开始" in out
    code, out = yehua(env, "nighttalk", "open", "1")
    assert code == 0 and "本来就是“进行中”" in out
    code, out = yehua(env, "nighttalk", "close", "1")
    assert code == 0 and "夜话 #1 已结束" in out
    assert "村里修路" not in yehua(env, "nighttalk", "list")[1]
    assert "已结束" in yehua(env, "nighttalk", "list", "--all")[1]
    yehua(env, "nighttalk", "add", "-g", "枫树屋场", "--at", "2030-12-06 19:30",
          "--topic", "修水渠", "--yes")
    code, out = yehua(env, "nighttalk", "cancel", "2")
    assert code == 0 and "夜话 #2 已取消" in out
    assert "已取消" in yehua(env, "nighttalk", "list", "--all")[1]


async def test_a_talk_closed_from_the_command_line_is_summed_up_by_the_running_bot(
    env: dict[str, str], tmp_path: Path
) -> None:
    yehua(env, "groups", "add", "枫树屋场", "--chat-id", "fengshu")
    yehua(env, "nighttalk", "add", "-g", "fengshu", "--at", "2030-12-05 19:30", "--topic", "修路",
          "--yes")
    village = start_village(f"sqlite:///{tmp_path / 'data' / 'yehua.db'}", tmp_path / "data")
    try:
        await village.scheduler.run_due()
        assert yehua(env, "nighttalk", "open", "1")[0] == 0
        await village.scheduler.run_due()
        village.suggest(1, 3, "张大爷", "路面坑多")
        assert yehua(env, "nighttalk", "close", "1")[0] == 0
        await village.scheduler.run_due()
        seen = village.seen()
        assert [text[:6] for text in seen] == ["【夜话预告】", "【夜话开始】", "【夜话结束】"]
        assert "1. 路面坑多（张大爷，第3号）" in seen[-1]
    finally:
        village.engine.dispose()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nighttalk", "add", "-g", "nowhere", "--at", "2030-12-05 19:30", "--topic", "修路"],
         "找不到群「nowhere」"),
        (["nighttalk", "add", "-g", "fengshu", "--at", "明晚", "--topic", "修路"],
         "时间「明晚」看不懂"),
        (["nighttalk", "add", "-g", "fengshu", "--at", "2020-12-05 19:30", "--topic", "修路"],
         "已经过去了"),
        (["nighttalk", "add", "-g", "fengshu", "--at", "19:30", "--topic", "修路",
          "--hours", "30"], "时长「30」不对"),
        (["nighttalk", "add", "-g", "fengshu", "--at", "19:30", "--topic", " "],
         "请写上夜话要聊的话题"),
        (["nighttalk", "open", "42"], "没有第 42 号夜话"),
        (["roles", "grant", "u1", "-g", "fengshu", "--role", "boss"], "角色「boss」不认识"),
        (["roles", "grant", "u1", "-g", "nowhere", "--role", "secretary"], "找不到群"),
        (["roles", "revoke", "u9", "-g", "fengshu"], "「枫树屋场」里没有用户 u9"),
        # A name nobody goes by is not made into a member no message would ever come from.
        (["roles", "grant", "王奶奶", "-g", "fengshu", "--role", "话事佬"],
         "「枫树屋场」里没有叫「王奶奶」的人"),
        (["roles", "grant", " ", "-g", "fengshu", "--role", "admin"], "没有叫「」的人"),
    ],
)
def test_bad_cli_requests_say_what_is_wrong_and_change_nothing(
    env: dict[str, str], args: list[str], message: str
) -> None:
    assert yehua(env, "groups", "add", "枫树屋场", "--chat-id", "fengshu")[0] == 0
    code, out = yehua(env, *args)
    assert code == 1
    assert message in out.replace("\n", "")
    engine = open_database(f"sqlite:///{env['YEHUA_DATA_DIR']}/yehua.db")
    with session(engine) as db:
        assert db.exec(select(NightTalk)).all() == []
        assert db.exec(select(Member)).all() == []
    engine.dispose()


def test_cli_roles_grant_list_revoke(env: dict[str, str]) -> None:
    assert yehua(env, "groups", "add", "枫树屋场", "--chat-id", "fengshu")[0] == 0
    code, out = yehua(env, "roles", "grant", "u1", "-g", "fengshu", "--role", "secretary",
                      "--name", "王书记")
    assert code == 0 and "已把 王书记（u1）在「枫树屋场」设为书记或文书" in out
    code, out = yehua(env, "roles", "grant", "u2", "-g", "1", "--role", "话事佬", "--name", "李伯")
    assert code == 0, out
    code, out = yehua(env, "roles", "list", "-g", "fengshu")
    assert "王书记" in out and "李伯" in out and "话事佬" in out
    code, out = yehua(env, "roles", "revoke", "u1", "-g", "fengshu")
    assert code == 0 and "已取消 王书记（u1）在「枫树屋场」的书记或文书身份" in out
    code, out = yehua(env, "roles", "revoke", "u1", "-g", "fengshu")
    assert code == 0 and "本来就是普通成员" in out
    assert "王书记" not in yehua(env, "roles", "list", "-g", "fengshu")[1]
    engine = open_database(f"sqlite:///{env['YEHUA_DATA_DIR']}/yehua.db")
    with session(engine) as db:
        roles = {m.user_id: m.role for m in db.exec(select(Member))}
    engine.dispose()
    assert roles == {"u1": Role.MEMBER, "u2": Role.FACILITATOR}


def test_cli_roles_are_given_by_the_name_members_go_by_in_the_group(env: dict[str, str]) -> None:
    assert yehua(env, "groups", "add", "枫树屋场", "--chat-id", "fengshu")[0] == 0
    engine = open_database(f"sqlite:///{env['YEHUA_DATA_DIR']}/yehua.db")
    with session(engine) as db:
        group = db.exec(select(Group)).one()
        for user_id, name in (("u-wang", "王奶奶"), ("u-li", "李伯"), ("u-li2", "李伯")):
            db.add(Member(group_id=group.id or 0, user_id=user_id, display_name=name))

    code, out = yehua(env, "roles", "grant", "王奶奶", "-g", "fengshu", "--role", "话事佬")
    assert code == 0 and "已把 王奶奶（u-wang）在「枫树屋场」设为话事佬" in out
    code, out = yehua(env, "roles", "grant", "李伯", "-g", "fengshu", "--role", "话事佬")
    assert code == 1 and "李伯（u-li）、李伯（u-li2）" in out.replace("\n", "")
    code, out = yehua(env, "roles", "revoke", "王奶奶", "-g", "fengshu")
    assert code == 0 and "已取消 王奶奶（u-wang）" in out
    with session(engine) as db:
        members = sorted((m.user_id, m.role) for m in db.exec(select(Member)))
    engine.dispose()
    assert members == [("u-li", Role.MEMBER), ("u-li2", Role.MEMBER), ("u-wang", Role.MEMBER)]


def test_a_talk_still_to_come_cannot_be_ended_by_hand_only_called_off(
        env: dict[str, str]) -> None:
    assert yehua(env, "groups", "add", "枫树屋场", "--chat-id", "fengshu")[0] == 0
    code, out = yehua(env, "nighttalk", "add", "-g", "fengshu", "--at", "明晚8点", "--topic",
                      "修水渠", "--yes")
    assert code == 0, out
    code, out = yehua(env, "nighttalk", "close", "1")
    assert code == 1 and "第 1 号夜话还没开始，不能结束" in out  # it would count as held
    engine = open_database(f"sqlite:///{env['YEHUA_DATA_DIR']}/yehua.db")
    with session(engine) as db:
        assert db.exec(select(NightTalk)).one().status == NightTalkStatus.SCHEDULED
    code, out = yehua(env, "nighttalk", "cancel", "1")
    assert code == 0, out
    with session(engine) as db:
        assert db.exec(select(NightTalk)).one().status == NightTalkStatus.CANCELLED
    engine.dispose()
