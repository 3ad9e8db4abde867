"""/兑换 in the web chat and on QQ: the member's receipt goes to them alone."""

from __future__ import annotations

from aiohttp import web
from sqlmodel import col, select

from bot.app import ENGINE, SERVICES
from bot.core.db import session
from bot.core.models import ChatMessage, Group, PointsEntry, Redemption, ShopGood
from bot.domain.shop import add_good, redeem
from bot.domain.shop_receipts import RECEIPT_KIND, receipt_ref
from bot.domain.villages import village_id_of
from bot.settings import Settings
from scheduler.dbtypes import utcnow
from scheduler.timers import add_timer
from tests.support.app import RunningApp, running
from tests.support.builders import add_member
from tests.support.fakes.onebot import FakeNapCat
from tests.support.onebot import GROUP, OWNER, prepare_qq_groups, with_onebot
from tests.support.polling import eventually
from tests.support.village import ROOM, SECRETARY, ZHANG, joined, prepare_village

WANG = ("user-wang-nainai", "王奶奶")
QQ_WANG = 345678909


def stock_the_shop(app: web.Application, chat_id: str, user_id: str, name: str) -> None:
    """王奶奶 is known with 75 points; the shop has 洗衣粉 at 30 and 大米 at 100."""
    with session(app[ENGINE]) as db:
        group = db.exec(select(Group).where(Group.chat_id == chat_id)).one()
        assert group.id is not None
        village = village_id_of(db, group)
        add_good(db, village, "洗衣粉", price=30, stock=3)
        add_good(db, village, "大米", price=100, stock=3)
        db.add(PointsEntry(group_id=group.id, user_id=user_id, user_name=name, reason="listen",
                           ref="d1", points=75))
    add_member(app[ENGINE], group.id, user_id, name)


def prepare_shop(app: web.Application) -> None:
    prepare_village(app)
    stock_the_shop(app, ROOM, *WANG)


def private_texts(bot: RunningApp, user_id: str) -> list[str]:
    with session(bot.app[ENGINE]) as db:
        return [r.text for r in db.exec(select(ChatMessage).where(
            col(ChatMessage.from_bot), ChatMessage.recipient_id == user_id))]


def public_texts(bot: RunningApp) -> list[str]:
    with session(bot.app[ENGINE]) as db:
        return [r.text for r in db.exec(select(ChatMessage).where(
            col(ChatMessage.from_bot), col(ChatMessage.recipient_id).is_(None)))]


def redemptions(app: web.Application) -> list[tuple[str, int, int]]:
    with session(app[ENGINE]) as db:
        return [(r.user_name, r.quantity, r.points) for r in db.exec(select(Redemption))]


def stock(app: web.Application, name: str) -> int:
    with session(app[ENGINE]) as db:
        return db.exec(select(ShopGood.stock).where(ShopGood.name == name)).one()


async def test_a_secretary_records_a_redemption_and_only_the_member_sees_the_receipt(
        settings: Settings) -> None:
    async with running(settings, prepare_shop) as bot, \
            joined(bot.url, SECRETARY) as secretary, joined(bot.url, WANG) as wang:
        answer = await secretary.answer("/兑换 @王奶奶 洗衣粉")
        assert answer["private"]
        assert answer["text"] == "已记下：王奶奶 用 30 分换了 洗衣粉 ×1，还剩 45 分。"
        assert await wang.sees("您用") == "您用 30 分换了 洗衣粉 ×1，还剩 45 分。"

    assert private_texts(bot, WANG[0]) == ["您用 30 分换了 洗衣粉 ×1，还剩 45 分。"]
    assert not any("洗衣粉" in t for t in public_texts(bot))  # the room saw nothing of it
    assert redemptions(bot.app) == [("王奶奶", 1, 30)]
    assert stock(bot.app, "洗衣粉") == 2


async def test_a_redemption_beyond_the_balance_is_refused_and_a_member_may_not_redeem(
        settings: Settings) -> None:
    async with running(settings, prepare_shop) as bot, \
            joined(bot.url, SECRETARY) as secretary, joined(bot.url, ZHANG) as zhang:
        refused = await secretary.ask("/兑换 王奶奶 洗衣粉 3")
        assert refused == "王奶奶的积分不够：换 洗衣粉 ×3 要 90 分，现在只有 75 分。"
        assert "没有「酱油」" in await secretary.ask("/兑换 王奶奶 酱油")
        assert "群里没找到「赵六」" in await secretary.ask("/兑换 赵六 洗衣粉")
        assert (await secretary.ask("/兑换 王奶奶")).startswith("用法：/兑换 @王奶奶 洗衣粉")
        assert "只有书记或文书才能用" in await zhang.ask("/兑换 王奶奶 洗衣粉")
        await bot.app[SERVICES].replies.drain()

    assert redemptions(bot.app) == []
    assert stock(bot.app, "洗衣粉") == 3
    assert private_texts(bot, WANG[0]) == []


def prepare_qq_shop(app: web.Application) -> None:
    prepare_qq_groups(app)
    stock_the_shop(app, str(GROUP), str(QQ_WANG), "王奶奶")


async def test_on_qq_the_at_mentioned_member_gets_the_receipt_in_a_private_session(
        settings: Settings, napcat: FakeNapCat) -> None:
    async with running(with_onebot(settings, napcat), prepare_qq_shop) as bot:
        event = napcat.group_message(GROUP, OWNER, [
            {"type": "text", "data": {"text": "/兑换 "}},
            {"type": "at", "data": {"qq": str(QQ_WANG)}},
            {"type": "text", "data": {"text": " 洗衣粉 2"}}], role="owner", card="书记")
        assert (await napcat.post_event(bot.url, event))[0] == 204
        await bot.app[SERVICES].replies.drain()

        assert [s.text for s in napcat.to_user(QQ_WANG)] == [
            "您用 60 分换了 洗衣粉 ×2，还剩 15 分。"]
        assert not any("您用" in s.text for s in napcat.in_group(GROUP))
        told = [s.text for s in napcat.to_user(OWNER)] + [s.text for s in napcat.in_group(GROUP)]
        assert any("已记下：王奶奶 用 60 分换了 洗衣粉 ×2" in text for text in told)
    assert redemptions(bot.app) == [("王奶奶", 2, 60)]


async def test_a_receipt_the_command_line_queued_is_sent_to_the_member_alone(
        settings: Settings) -> None:
    async with running(settings, prepare_shop) as bot:
        with session(bot.app[ENGINE]) as db:
            group = db.exec(select(Group).where(Group.chat_id == ROOM)).one()
            receipt = redeem(db, group, user_id=WANG[0], user_name=WANG[1], good_name="洗衣粉",
                             by_id="cli", by_name="命令行")
            add_timer(db, RECEIPT_KIND, receipt_ref(receipt.redemption_id), utcnow())
        await bot.app[SERVICES].scheduler.rearm()

        told = await eventually(lambda: private_texts(bot, WANG[0]))
    assert told == ["您用 30 分换了 洗衣粉 ×1，还剩 45 分。"]
    assert not any("洗衣粉" in t for t in public_texts(bot))
