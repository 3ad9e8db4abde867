"""Suggestions: filed by topic, stored once per message, moved step by step with a history."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import func, select

from bot.core.db import open_database, session
from bot.core.models import Group, NightTalk, Suggestion, SuggestionChange, SuggestionStatus
from bot.domain.suggestions import (
    CATEGORIES,
    STATUS_LABELS,
    SuggestionError,
    add_suggestion,
    categorize,
    change_status,
    get_suggestion,
    history,
    set_category,
    set_text,
    suggestions_by,
    suggestions_in_talk,
)
from tests.support.builders import add_group

S = SuggestionStatus
T0 = datetime(2026, 12, 5, 11, 30, tzinfo=UTC)  # 19:30 in the village


def make_group(engine: Engine, chat_id: str = "fengshu", name: str = "枫树屋场") -> Group:
    return add_group(engine, name, chat_id=chat_id, hamlet=name)


@pytest.fixture
def group(engine: Engine) -> Group:
    return make_group(engine)


def raise_one(engine: Engine, group: Group, message_id: str, text: str,
              author: tuple[str, str] = ("u-zhang", "张大爷"), **extra: object) -> Suggestion:
    with session(engine) as db:
        row, created = add_suggestion(
            db, group=group, platform="web", chat_id=group.chat_id, message_id=message_id,
            author_id=author[0], author_name=author[1], text=text, now=T0, **extra,  # type: ignore[arg-type]
        )
        assert created
        return row


def move(engine: Engine, number: int, to: SuggestionStatus, reply: str = "",
         at: datetime = T0) -> Suggestion:
    with session(engine) as db:
        return change_status(db, number, to, actor_id="u-li", actor_name="李书记", reply=reply,
                             now=at)


def reread(engine: Engine, number: int) -> tuple[Suggestion, list[SuggestionChange]]:
    with session(engine) as db:
        return get_suggestion(db, number), history(db, number)


def count_rows(engine: Engine) -> int:
    with session(engine) as db:
        return db.exec(select(func.count()).select_from(Suggestion)).one()


@pytest.mark.parametrize(("text", "category"), [
    ("村口那盏路灯坏了半个月，晚上走路黑咕隆咚的", "roads"),
    ("去镇上那段路全是坑，下雨天摩托车都骑不过去", "roads"),
    ("后山那条水渠堵了，田里放不进水", "water"),
    ("我们组的自来水三天两头停水，老人只好去井里挑水", "water"),
    ("河边的垃圾堆了好久没人清运，夏天臭得很", "waste"),
    ("最近晚上有人偷鸡，能不能在路口装个监控", "safety"),
    ("今年医保费又涨了，在县医院看病能报销多少", "medical_insurance"),
    ("我家的承包地被隔壁占了一块，地界说不清楚", "land"),
    ("后山的山林砍树要办什么手续", "land"),
    ("儿子结婚想在宅基地上建房，审批要找哪个", "housing"),
    ("种子和化肥都涨价了，村里能不能统一去买", "agriculture"),
    ("屋场好多老人一个人在家，没人照料，能不能办个养老食堂", "elderly"),
    ("村小学的校车太挤，孩子上学不安全", "education"),
    ("我想问一下今年的分红什么时候发", "other"),
])
def test_villagers_words_are_filed_under_the_right_topic(text: str, category: str) -> None:
    assert categorize(text) == category


def test_a_tie_goes_to_the_topic_listed_first() -> None:
    keys = list(CATEGORIES)
    assert keys.index("medical_insurance") < keys.index("elderly")
    assert categorize("村里的老人看病难") == "medical_insurance"  # 老人 vs 看病: one hit each


def test_every_topic_has_a_chinese_label_and_other_comes_last() -> None:
    assert list(CATEGORIES)[-1] == "other"
    assert CATEGORIES["roads"][0] == "道路交通"
    assert CATEGORIES["medical_insurance"][0] == "医保医疗"
    assert all(label for label, _words in CATEGORIES.values())
    assert [STATUS_LABELS[s] for s in S] == ["待处理", "已采纳", "办理中", "已办结", "暂不采纳"]


def test_raised_suggestion_gets_a_number_the_hamlet_and_a_topic(
    engine: Engine, group: Group
) -> None:
    row = raise_one(engine, group, "m-1", "  村口路灯坏了，晚上看不见路  \n")
    again, changes = reread(engine, row.id or 0)
    assert again.id == row.id and again.id is not None
    assert again.text == "村口路灯坏了，晚上看不见路"
    assert again.hamlet == "枫树屋场"
    assert again.category == "roads"
    assert again.status == S.NEW
    assert again.created_at == T0
    assert changes == []


def test_empty_or_overlong_suggestion_is_refused_and_nothing_stored(
    engine: Engine, group: Group
) -> None:
    for text, expected in [("   ", "建议是空的"), ("修" * 1001, "最多 1000 个字")]:
        with pytest.raises(SuggestionError, match=expected), session(engine) as db:
            add_suggestion(db, group=group, platform="web", chat_id="fengshu", message_id="m-x",
                           author_id="u-zhang", author_name="张大爷", text=text)
    assert count_rows(engine) == 0


def test_voice_suggestion_needs_no_text_and_is_filed_once_the_secretary_types_it(
    engine: Engine, group: Group
) -> None:
    row = raise_one(engine, group, "m-voice", "", voice_path="a1b2c3.mp3")
    assert (row.text, row.category, row.voice_path) == ("", "other", "a1b2c3.mp3")
    with session(engine) as db:
        set_text(db, row.id or 0, "后山水渠漏水，田里的水都跑光了", group_id=group.id)
    again, _ = reread(engine, row.id or 0)
    assert (again.text, again.category) == ("后山水渠漏水，田里的水都跑光了", "water")


def test_secretary_corrects_the_topic_by_its_chinese_name(engine: Engine, group: Group) -> None:
    row = raise_one(engine, group, "m-1", "我想问一下低保怎么申请")
    with session(engine) as db:
        set_category(db, row.id or 0, "养老助老")
    assert reread(engine, row.id or 0)[0].category == "elderly"
    with pytest.raises(SuggestionError, match="没有“吃饭”这个分类。可以选：道路交通、"), \
            session(engine) as db:
        set_category(db, row.id or 0, "吃饭")
    assert reread(engine, row.id or 0)[0].category == "elderly"


def test_the_same_message_delivered_twice_makes_one_suggestion(
    engine: Engine, group: Group
) -> None:
    first = raise_one(engine, group, "m-7", "垃圾池满了没人拉")
    with session(engine) as db:
        second, created = add_suggestion(
            db, group=group, platform="web", chat_id="fengshu", message_id="m-7",
            author_id="u-zhang", author_name="张大爷", text="垃圾池满了没人拉")
    assert not created
    assert second.id == first.id
    assert count_rows(engine) == 1


def test_the_same_message_id_in_another_chat_is_another_suggestion(
    engine: Engine, group: Group
) -> None:
    other = make_group(engine, "lianhua", "莲花屋场")
    one = raise_one(engine, group, "m-1", "修路")
    two = raise_one(engine, other, "m-1", "修桥")
    assert one.id != two.id and two.hamlet == "莲花屋场"


def test_two_deliveries_racing_on_one_sqlite_file_store_each_message_once(
    engine: Engine, group: Group
) -> None:
    start = threading.Barrier(2)

    def deliver(_worker: int) -> list[tuple[int | None, bool]]:
        start.wait()
        results = []
        for i in range(40):
            with session(engine) as db:
                row, created = add_suggestion(
                    db, group=group, platform="web", chat_id="fengshu", message_id=f"m-{i}",
                    author_id="u-wang", author_name="王伯", text=f"第{i}段路要修")
                results.append((row.id, created))
        return results

    with ThreadPoolExecutor(2) as pool:
        one, two = pool.map(deliver, range(2))
    assert count_rows(engine) == 40
    for (id_one, created_one), (id_two, created_two) in zip(one, two, strict=True):
        assert id_one == id_two
        assert created_one != created_two  # exactly one of the two stored it


def test_two_deliveries_racing_on_postgres_store_each_message_once(pg_url: str) -> None:
    engine = open_database(pg_url)
    group = make_group(engine)
    start = threading.Barrier(3)

    def deliver(_worker: int) -> list[bool]:
        start.wait()
        created_flags = []
        for i in range(30):
            with session(engine) as db:
                _row, created = add_suggestion(
                    db, group=group, platform="web", chat_id="fengshu", message_id=f"m-{i}",
                    author_id="u-wang", author_name="王伯", text="水渠要清淤")
                created_flags.append(created)
        return created_flags

    with ThreadPoolExecutor(3) as pool:
        flags = list(pool.map(deliver, range(3)))
    assert count_rows(engine) == 30
    assert [sum(column) for column in zip(*flags, strict=True)] == [1] * 30
    engine.dispose()


def test_full_lifecycle_is_recorded_step_by_step(engine: Engine, group: Group) -> None:
    number = raise_one(engine, group, "m-1", "村口路灯坏了").id or 0
    move(engine, number, S.ADOPTED, "已列入下月计划", T0 + timedelta(days=1))
    move(engine, number, S.IN_PROGRESS, at=T0 + timedelta(days=3))
    after_progress, _ = reread(engine, number)
    assert after_progress.reply == "已列入下月计划"  # a step without words keeps the last reply
    move(engine, number, S.DONE, " 路灯已经换好了 ", T0 + timedelta(days=9))

    row, changes = reread(engine, number)
    assert row.status == S.DONE
    assert row.reply == "路灯已经换好了"
    assert row.handler_name == "李书记"
    assert row.updated_at == T0 + timedelta(days=9)
    assert [(c.from_status, c.to_status, c.reply, c.actor_name) for c in changes] == [
        (S.NEW, S.ADOPTED, "已列入下月计划", "李书记"),
        (S.ADOPTED, S.IN_PROGRESS, "", "李书记"),
        (S.IN_PROGRESS, S.DONE, "路灯已经换好了", "李书记"),
    ]
    assert [c.created_at for c in changes] == [T0 + timedelta(days=d) for d in (1, 3, 9)]


def test_adopted_can_be_finished_at_once_and_declined_can_be_reconsidered(
    engine: Engine, group: Group
) -> None:
    quick = raise_one(engine, group, "m-1", "垃圾桶被狗翻倒了").id or 0
    move(engine, quick, S.ADOPTED, "马上安排")
    assert move(engine, quick, S.DONE, "换了带盖的桶").status == S.DONE

    later = raise_one(engine, group, "m-2", "想在晒谷坪装个篮球架").id or 0
    move(engine, later, S.DECLINED, "今年没有这笔钱")
    move(engine, later, S.ADOPTED, "争取到了体育器材项目")
    row, changes = reread(engine, later)
    assert row.status == S.ADOPTED and row.reply == "争取到了体育器材项目"
    assert [c.to_status for c in changes] == [S.DECLINED, S.ADOPTED]


def _reach(engine: Engine, group: Group, status: SuggestionStatus, message_id: str) -> int:
    path = {
        S.NEW: [],
        S.ADOPTED: [(S.ADOPTED, "同意")],
        S.IN_PROGRESS: [(S.ADOPTED, "同意"), (S.IN_PROGRESS, "")],
        S.DONE: [(S.ADOPTED, "同意"), (S.DONE, "办好了")],
        S.DECLINED: [(S.DECLINED, "不合政策")],
    }[status]
    number = raise_one(engine, group, message_id, "修一下后山的水渠").id or 0
    for step, reply in path:
        move(engine, number, step, reply)
    return number


REFUSED = [
    (S.NEW, S.NEW), (S.NEW, S.IN_PROGRESS), (S.NEW, S.DONE),
    (S.ADOPTED, S.NEW), (S.ADOPTED, S.ADOPTED),
    (S.IN_PROGRESS, S.NEW), (S.IN_PROGRESS, S.ADOPTED), (S.IN_PROGRESS, S.IN_PROGRESS),
    (S.IN_PROGRESS, S.DECLINED),
    (S.DONE, S.NEW), (S.DONE, S.ADOPTED), (S.DONE, S.IN_PROGRESS), (S.DONE, S.DONE),
    (S.DONE, S.DECLINED),
    (S.DECLINED, S.NEW), (S.DECLINED, S.IN_PROGRESS), (S.DECLINED, S.DONE),
    (S.DECLINED, S.DECLINED),
]


@pytest.mark.parametrize(("current", "to"), REFUSED)
def test_refused_step_names_both_states_and_changes_nothing(
    engine: Engine, group: Group, current: SuggestionStatus, to: SuggestionStatus
) -> None:
    number = _reach(engine, group, current, "m-1")
    before, before_changes = reread(engine, number)
    # The refusal is caught inside the session, which then commits: still nothing changes.
    with session(engine) as db, pytest.raises(SuggestionError) as refused:
        change_status(db, number, to, actor_id="u-li", actor_name="李书记",
                      reply="理由写在这里", now=T0 + timedelta(days=30))
    message = str(refused.value)
    assert f"第 {number} 号建议" in message
    assert STATUS_LABELS[to] in message
    assert STATUS_LABELS[current] in message or (current == S.DONE and "已经办结了" in message)
    after, after_changes = reread(engine, number)
    assert after.model_dump() == before.model_dump()
    assert len(after_changes) == len(before_changes)


def test_refusals_read_as_plain_chinese(engine: Engine, group: Group) -> None:
    done = _reach(engine, group, S.DONE, "m-1")
    new = _reach(engine, group, S.NEW, "m-2")
    with pytest.raises(SuggestionError) as finished, session(engine) as db:
        change_status(db, done, S.IN_PROGRESS, actor_id="u-li", actor_name="李书记")
    assert str(finished.value) == f"第 {done} 号建议已经办结了，不能再改成“办理中”。"
    with pytest.raises(SuggestionError) as early, session(engine) as db:
        change_status(db, new, S.DONE, actor_id="u-li", actor_name="李书记", reply="修好了")
    assert str(early.value) == f"第 {new} 号建议现在是“待处理”，要先采纳，才能改成“已办结”。"


def test_finishing_or_declining_needs_a_reply(engine: Engine, group: Group) -> None:
    number = raise_one(engine, group, "m-1", "路口装个减速带").id or 0
    with pytest.raises(SuggestionError, match="暂不采纳要写上理由"), session(engine) as db:
        change_status(db, number, S.DECLINED, actor_id="u-li", actor_name="李书记", reply="  ")
    move(engine, number, S.ADOPTED)
    with pytest.raises(SuggestionError, match="办结要写上办理结果"), session(engine) as db:
        change_status(db, number, S.DONE, actor_id="u-li", actor_name="李书记")
    row, changes = reread(engine, number)
    assert row.status == S.ADOPTED and len(changes) == 1


def test_two_secretaries_adopting_at_once_record_one_change(
    engine: Engine, group: Group
) -> None:
    number = raise_one(engine, group, "m-1", "村里装几个监控").id or 0
    with session(engine) as slow:
        assert get_suggestion(slow, number).status == S.NEW  # seen before the other acts
        move(engine, number, S.ADOPTED, "同意，报镇里")
        with pytest.raises(SuggestionError, match="已经是“已采纳”了"):
            change_status(slow, number, S.ADOPTED, actor_id="u-wen", actor_name="文书",
                          reply="我也同意")
    row, changes = reread(engine, number)
    assert (row.reply, row.handler_name) == ("同意，报镇里", "李书记")
    assert len(changes) == 1


def test_unknown_number_or_another_groups_number_is_not_found(
    engine: Engine, group: Group
) -> None:
    other = make_group(engine, "lianhua", "莲花屋场")
    theirs = raise_one(engine, other, "m-1", "修桥").id or 0
    with session(engine) as db:
        with pytest.raises(SuggestionError, match="没有第 99999 号建议"):
            change_status(db, 99999, S.ADOPTED, actor_id="u-li", actor_name="李书记")
        with pytest.raises(SuggestionError, match=f"没有第 {theirs} 号建议"):
            get_suggestion(db, theirs, group_id=group.id)
        with pytest.raises(SuggestionError, match="没有第 0 号建议"):
            get_suggestion(db, 0)
        assert get_suggestion(db, theirs, group_id=other.id).text == "修桥"


def test_night_talk_lists_its_suggestions_in_order_and_each_person_sees_theirs(
    engine: Engine, group: Group
) -> None:
    with session(engine) as db:
        talk = NightTalk(group_id=group.id or 0, topic="修路", place="枫树屋场禾坪",
                         starts_at=T0, ends_at=T0 + timedelta(hours=2))
        db.add(talk)
        db.flush()
    said = [("u-zhang", "张大爷", "村口路灯坏了"), ("u-li", "李婶", "水渠要清淤"),
            ("u-zhang", "张大爷", "桥上装个护栏")]
    for i, (user_id, name, text) in enumerate(said):
        raise_one(engine, group, f"m-{i}", text, (user_id, name), night_talk_id=talk.id)
    raise_one(engine, group, "m-late", "垃圾清运", ("u-zhang", "张大爷"))  # after the talk
    raise_one(engine, group, "m-proxy", "老人体检", ("proxy:陈奶奶", "陈奶奶"),
              raised_by=("u-liu", "刘主任"), night_talk_id=talk.id)
    with session(engine) as db:
        in_talk = suggestions_in_talk(db, talk.id or 0)
        mine = suggestions_by(db, group.id or 0, "u-zhang")
        hers = suggestions_by(db, group.id or 0, "proxy:陈奶奶")
    assert [s.text for s in in_talk] == ["村口路灯坏了", "水渠要清淤", "桥上装个护栏", "老人体检"]
    assert [s.text for s in mine] == ["垃圾清运", "桥上装个护栏", "村口路灯坏了"]
    assert (hers[0].author_name, hers[0].raised_by_name) == ("陈奶奶", "刘主任")
