"""The 积分超市 console page: goods added and edited, a redemption recorded with its receipt."""

from __future__ import annotations

from sqlmodel import col, select

from bot.app import ENGINE
from bot.core.db import session
from bot.core.models import ChatMessage, PointsEntry, Redemption, Role, ShopGood
from bot.settings import Settings
from tests.support.app import RunningApp
from tests.support.builders import add_member
from tests.support.console import add_account, add_group, console_app, visitor

WANG = ("u-wang", "王奶奶")


def prepare(bot: RunningApp) -> int:
    add_account(bot, "wenshu", Role.SECRETARY, "周文书")
    add_account(bot, "libo", Role.FACILITATOR, "李伯")
    group_id = add_group(bot, "雨坛村大群", chat_id="yutan")
    add_member(bot.app[ENGINE], group_id, *WANG)
    with session(bot.app[ENGINE]) as db:
        db.add(PointsEntry(group_id=group_id, user_id=WANG[0], user_name=WANG[1],
                           reason="listen", ref="d1", points=75))
    return group_id


async def test_a_secretary_stocks_the_shop_and_records_a_redemption_the_member_is_told_of(
        settings: Settings) -> None:
    async with console_app(settings) as bot:
        group_id = prepare(bot)
        async with visitor(bot, "wenshu") as wenshu:
            status, html = await wenshu.get("/admin/shop")
            assert status == 200 and "还没有商品" in html and "积分超市" in html
            token = await wenshu.token("/admin/shop")
            base = f"/admin/shop/{group_id}"
            added = await wenshu.post(base + "/goods", {"name": "洗衣粉", "price": "30",
                                                        "stock": "2"}, token)
            assert added.status == 302
            refused = await wenshu.post(base + "/goods", {"name": "洗衣粉", "price": "abc"},
                                        token)
            assert refused.status == 302
            _, html = await wenshu.get("/admin/shop")
            assert "价格要写成 1 到" in html
            assert "王奶奶（积分余额 75 分）" in html and "洗衣粉（30 分，库存 2）" in html
            good_id = str(_good(bot).id)

            too_many = await wenshu.post(base + "/redeem", {"user": WANG[0], "good": good_id,
                                                            "quantity": "3"}, token)
            assert too_many.status == 302
            _, html = await wenshu.get("/admin/shop")
            assert "库存不够：只剩 2 件，要换 3 件" in html
            done = await wenshu.post(base + "/redeem", {"user": WANG[0], "good": good_id,
                                                        "quantity": "2"}, token)
            assert done.status == 302
            _, html = await wenshu.get("/admin/shop")
            assert "已记下：王奶奶 用 60 分换了 洗衣粉 ×2，还剩 15 分。" in html
            assert "王奶奶 换了 洗衣粉 ×2，用去 60 分" in html and "周文书" in html
            assert "王奶奶（积分余额 15 分）" in html and "洗衣粉（30 分，库存 0）" in html

            saved = await wenshu.post(base + f"/goods/{good_id}", {"price": "40",
                                                                    "stock": "5"}, token)
            assert saved.status == 302
            off = await wenshu.post(base + f"/goods/{good_id}", {"active": "off"}, token)
            assert off.status == 302
            _, html = await wenshu.get("/admin/shop")
            assert "已下架" in html and "重新上架" in html
            no_token = await wenshu.post(base + f"/goods/{good_id}", {"active": "on"})
            assert no_token.status == 403

        async with visitor(bot, "libo") as libo:
            assert (await libo.get("/admin/shop"))[0] == 403

    good = _good(bot)
    assert (good.price, good.stock, good.active) == (40, 5, False)
    with session(bot.app[ENGINE]) as db:
        assert [(r.user_name, r.quantity, r.points, r.by_name)
                for r in db.exec(select(Redemption))] == [("王奶奶", 2, 60, "周文书")]
        told = db.exec(select(ChatMessage.text).where(
            col(ChatMessage.from_bot), ChatMessage.recipient_id == WANG[0])).all()
    assert told == ["您用 60 分换了 洗衣粉 ×2，还剩 15 分。"]


def _good(bot: RunningApp) -> ShopGood:
    with session(bot.app[ENGINE]) as db:
        return db.exec(select(ShopGood)).one()
