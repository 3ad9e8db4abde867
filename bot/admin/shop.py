"""Console page of the points shop (积分超市): goods, recording a redemption, recent ones."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiohttp import web
from sqlmodel import Session

from bot import texts
from bot.admin.core import CONSOLE, Viewer, field_text, form, page, redirect, render, whole_number
from bot.admin.suggestions import actor
from bot.core.adapter import AdapterError
from bot.core.db import in_session
from bot.core.models import Group, Role, ShopGood
from bot.domain.board import groups
from bot.domain.handling import find_member_handler
from bot.domain.shop import (
    Receipt,
    RecentRedemption,
    ShopError,
    Shopper,
    add_good,
    edit_good,
    get_good,
    goods,
    recent_redemptions,
    redeem,
    shoppers,
)
from bot.domain.shop_receipts import send_receipt
from bot.domain.suggestions import SuggestionError
from bot.domain.villages import village_id_of

log = logging.getLogger(__name__)

SHOP = "/admin/shop"


@dataclass(frozen=True)
class ShopView:
    """What the page shows for one group's village."""

    group: Group
    goods: list[ShopGood]
    shoppers: list[Shopper]
    recent: list[RecentRedemption]


def _view(db: Session, group_id: int | None) -> tuple[list[Group], ShopView | None]:
    every = groups(db)
    group = next((g for g in every if g.id == group_id), every[0] if every else None)
    if group is None:
        return every, None
    village = village_id_of(db, group)
    return every, ShopView(group, goods(db, village), shoppers(db, group),
                           recent_redemptions(db, village))


@page(Role.SECRETARY)
async def shop_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """The goods of a group's village, a form to record a redemption, and the latest ones."""
    console = request.app[CONSOLE]
    every, view = await in_session(console.services.engine, _view,
                                   whole_number(request.query.get("group")))
    return render(request, viewer, "admin/shop.html", groups=every, view=view, shop=SHOP)


def _group_of(request: web.Request) -> int:
    group_id = whole_number(request.match_info["group"])
    if group_id is None or group_id >= 2**63:
        raise web.HTTPNotFound()
    return group_id


def _load_group(db: Session, group_id: int) -> Group:
    group = db.get(Group, group_id)
    if group is None:
        raise web.HTTPNotFound()
    return group


def _number(value: str) -> int:
    """A whole number typed in a form; -1 (refused by the shop's checks) for anything else."""
    number = whole_number(value)
    return -1 if number is None else number


@page(Role.SECRETARY)
async def add_action(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Put a new good in the shop."""
    group_id = _group_of(request)
    data = await form(request)
    back = f"{SHOP}?group={group_id}"

    def add(db: Session) -> ShopGood:
        village = village_id_of(db, _load_group(db, group_id))
        return add_good(db, village, field_text(data, "name", 60),
                        price=_number(field_text(data, "price", 12)),
                        stock=_number(field_text(data, "stock", 12) or "0"))

    try:
        good = await in_session(request.app[CONSOLE].services.engine, add)
    except ShopError as exc:
        raise redirect(back, str(exc), error=True) from exc
    raise redirect(back, texts.ADMIN_SHOP_ADDED.format(name=good.name))


@page(Role.SECRETARY)
async def edit_action(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Change a good's price and stock, or take it off sale or put it back."""
    group_id = _group_of(request)
    good_id = whole_number(request.match_info["good"])
    data = await form(request)
    back = f"{SHOP}?group={group_id}"
    active = {"on": True, "off": False}.get(field_text(data, "active", 3))

    def edit(db: Session) -> ShopGood:
        village = village_id_of(db, _load_group(db, group_id))
        good = get_good(db, village, good_id or 0)
        if active is not None:
            return edit_good(db, good, active=active)
        return edit_good(db, good, price=_number(field_text(data, "price", 12)),
                         stock=_number(field_text(data, "stock", 12)))

    try:
        good = await in_session(request.app[CONSOLE].services.engine, edit)
    except ShopError as exc:
        raise redirect(back, str(exc), error=True) from exc
    raise redirect(back, texts.ADMIN_SHOP_SAVED.format(name=good.name))


@page(Role.SECRETARY)
async def redeem_action(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Record a redemption for a member; they get their receipt in the chat."""
    group_id = _group_of(request)
    data = await form(request)
    console = request.app[CONSOLE]
    back = f"{SHOP}?group={group_id}"
    by_id, by_name = actor(viewer)

    def record(db: Session) -> tuple[Group, Receipt]:
        group = _load_group(db, group_id)
        member = find_member_handler(db, group_id, field_text(data, "user", 200),
                                     missing=texts.SHOP_WHO_MISSING,
                                     unknown=texts.SHOP_NO_SUCH_MEMBER,
                                     several=texts.SHOP_WHICH_MEMBER)
        assert member.user_id is not None
        good = get_good(db, village_id_of(db, group),
                        whole_number(field_text(data, "good", 20)) or 0)
        return group, redeem(db, group, user_id=member.user_id, user_name=member.name,
                             good_name=good.name,
                             quantity=_number(field_text(data, "quantity", 12) or "1"),
                             by_id=by_id, by_name=by_name, now=console.services.clock())

    try:
        group, receipt = await in_session(console.services.engine, record)
    except (ShopError, SuggestionError) as exc:
        raise redirect(back, str(exc), error=True) from exc
    try:
        await send_receipt(console.services.outbox, group, receipt)
    except AdapterError as exc:
        log.warning("redemption %s: receipt not sent: %s", receipt.redemption_id, exc)
        raise redirect(back, texts.ADMIN_SHOP_RECEIPT_NOT_SENT.format(error=exc),
                       error=True) from exc
    raise redirect(back, receipt.confirmation())


def routes(router: web.UrlDispatcher) -> None:
    """Register the shop page and its forms."""
    router.add_get(SHOP, shop_page)
    router.add_post(SHOP + "/{group}/goods", add_action)
    router.add_post(SHOP + "/{group}/goods/{good}", edit_action)
    router.add_post(SHOP + "/{group}/redeem", redeem_action)
