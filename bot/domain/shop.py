"""The points shop (积分超市): a village's goods, members' balances, and redemptions."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from bot import texts
from bot.core.models import Group, Member, PointsEntry, Redemption, ShopGood, Village
from bot.domain.villages import village_id_of
from scheduler.dbtypes import utcnow

log = logging.getLogger(__name__)

NAME_LIMIT = 30
PRICE_LIMIT = 100_000
STOCK_LIMIT = 100_000
QUANTITY_LIMIT = 99


class ShopError(Exception):
    """What the shop refuses, worded for the secretary in Chinese."""


def balance(db: Session, village_id: int, user_id: str) -> int:
    """Points a person may still spend in the village: earned (not revoked) minus spent."""
    groups = select(Group.id).where(Group.village_id == village_id)
    earned = db.exec(select(func.coalesce(func.sum(PointsEntry.points), 0)).where(
        col(PointsEntry.group_id).in_(groups), PointsEntry.user_id == user_id,
        col(PointsEntry.revoked_at).is_(None))).one()
    spent = db.exec(select(func.coalesce(func.sum(Redemption.points), 0)).where(
        Redemption.village_id == village_id, Redemption.user_id == user_id)).one()
    return int(earned) - int(spent)


def goods(db: Session, village_id: int, *, active_only: bool = False) -> list[ShopGood]:
    """The village's goods by name; on sale only, if asked."""
    query = select(ShopGood).where(ShopGood.village_id == village_id)
    if active_only:
        query = query.where(col(ShopGood.active))
    return list(db.exec(query.order_by(col(ShopGood.name), col(ShopGood.id))))


def _checked_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise ShopError(texts.SHOP_NAME_MISSING)
    if len(name) > NAME_LIMIT:
        raise ShopError(texts.SHOP_NAME_TOO_LONG.format(limit=NAME_LIMIT))
    return name


def _checked(value: int, low: int, high: int, message: str) -> int:
    if not low <= value <= high:
        raise ShopError(message.format(limit=high))
    return value


def add_good(db: Session, village_id: int, name: str, *, price: int, stock: int = 0
             ) -> ShopGood:
    """Put a new good in the village's shop; ShopError for a bad or taken name, price, stock."""
    name = _checked_name(name)
    good = ShopGood(village_id=village_id, name=name,
                    price=_checked(price, 1, PRICE_LIMIT, texts.SHOP_BAD_PRICE),
                    stock=_checked(stock, 0, STOCK_LIMIT, texts.SHOP_BAD_STOCK))
    taken = db.exec(select(ShopGood.id).where(ShopGood.village_id == village_id,
                                              ShopGood.name == name)).first()
    if taken is not None:
        raise ShopError(texts.SHOP_GOOD_EXISTS.format(name=name))
    db.add(good)
    db.flush()
    log.info("village %s: good %s added at %s points", village_id, good.id, good.price)
    return good


def get_good(db: Session, village_id: int, good_id: int) -> ShopGood:
    """One good of the village by id; ShopError when it is not the village's."""
    good = db.get(ShopGood, good_id) if 0 < good_id < 2**63 else None
    if good is None or good.village_id != village_id:
        raise ShopError(texts.SHOP_GOOD_GONE)
    return good


def edit_good(db: Session, good: ShopGood, *, price: int | None = None,
              stock: int | None = None, active: bool | None = None) -> ShopGood:
    """Change a good's price, stock or whether it is on sale; past redemptions keep theirs."""
    if price is not None:
        good.price = _checked(price, 1, PRICE_LIMIT, texts.SHOP_BAD_PRICE)
    if stock is not None:
        good.stock = _checked(stock, 0, STOCK_LIMIT, texts.SHOP_BAD_STOCK)
    if active is not None:
        good.active = active
    db.add(good)
    db.flush()
    log.info("good %s: price %s, stock %s, active %s", good.id, good.price, good.stock,
             good.active)
    return good


def find_good(db: Session, village_id: int, name: str) -> ShopGood:
    """The good `name` names: its full name, or one unique part of an on-sale good's name."""
    name = " ".join(name.split())
    if not name:
        raise ShopError(texts.SHOP_NAME_MISSING)
    every = goods(db, village_id)
    exact = [g for g in every if g.name == name]
    if exact:
        return exact[0]
    on_sale = [g for g in every if g.active]
    found = [g for g in on_sale if name in g.name]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise ShopError(texts.SHOP_WHICH_GOOD.format(
            name=name, names="、".join(g.name for g in found[:5])))
    if not on_sale:
        raise ShopError(texts.SHOP_NO_GOODS)
    raise ShopError(texts.SHOP_NO_SUCH_GOOD.format(
        name=name, names="、".join(g.name for g in on_sale[:8])))


@dataclass(frozen=True)
class Receipt:
    """A redemption as the member and the secretary are told of it."""

    redemption_id: int
    user_id: str
    member: str
    good: str
    quantity: int
    points: int
    balance: int  # what is left to spend after it

    def receipt(self) -> str:
        """The member's own short receipt."""
        return texts.SHOP_RECEIPT.format(points=self.points, name=self.good,
                                         quantity=self.quantity, balance=self.balance)

    def confirmation(self) -> str:
        """What the secretary who recorded it is told."""
        return texts.SHOP_REDEEMED.format(member=self.member, points=self.points,
                                          name=self.good, quantity=self.quantity,
                                          balance=self.balance)


def redeem(db: Session, group: Group, *, user_id: str, user_name: str, good_name: str,
           quantity: int = 1, by_id: str | None = None, by_name: str | None = None,
           now: datetime | None = None) -> Receipt:
    """Record that a member takes `quantity` of a good: stock and balance checked together.

    ShopError when the good is unknown or off sale, stock is short, or the balance would go
    below zero; nothing is then changed.
    """
    _checked(quantity, 1, QUANTITY_LIMIT, texts.SHOP_BAD_QUANTITY)
    village_id = village_id_of(db, group)
    good = find_good(db, village_id, good_name)
    if not good.active:
        raise ShopError(texts.SHOP_GOOD_INACTIVE.format(name=good.name))
    # Take the stock first, guarded: of two redemptions racing for the last one only one
    # updates the row. Being the first write it also takes SQLite's write lock, so on SQLite
    # everything read below is read after any other redemption has committed.
    taken = db.execute(
        update(ShopGood)
        .where(col(ShopGood.id) == good.id, col(ShopGood.active),
               col(ShopGood.stock) >= quantity)
        .values(stock=col(ShopGood.stock) - quantity)
        .execution_options(synchronize_session=False))
    db.refresh(good)
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        if not good.active:
            raise ShopError(texts.SHOP_GOOD_INACTIVE.format(name=good.name))
        raise ShopError(texts.SHOP_OUT_OF_STOCK.format(name=good.name, stock=good.stock,
                                                       quantity=quantity))
    # On PostgreSQL two redemptions of one member (of different goods) do not touch the same
    # good: the village's row, locked until commit, makes the second read the first's spend.
    db.exec(select(Village.id).where(Village.id == village_id).with_for_update()).one()
    points = good.price * quantity
    left = balance(db, village_id, user_id) - points
    if left < 0:
        # Put the stock back here, so a caller that catches the refusal and commits anyway
        # still loses nothing.
        db.execute(update(ShopGood).where(col(ShopGood.id) == good.id)
                   .values(stock=col(ShopGood.stock) + quantity)
                   .execution_options(synchronize_session=False))
        raise ShopError(texts.SHOP_NOT_ENOUGH_POINTS.format(
            member=user_name, name=good.name, quantity=quantity, points=points,
            balance=left + points))
    row = Redemption(village_id=village_id, good_id=good.id or 0, group_id=group.id or 0,
                     user_id=user_id, user_name=user_name, quantity=quantity, points=points,
                     by_id=by_id, by_name=by_name, created_at=now or utcnow())
    db.add(row)
    db.flush()
    assert row.id is not None
    log.info("village %s: %s redeemed %s x%s for %s points (by %s)", village_id, user_id,
             good.id, quantity, points, by_id)
    return Receipt(row.id, user_id, user_name, good.name, quantity, points, left)


@dataclass(frozen=True)
class RecentRedemption:
    """One line of the shop's recent redemptions."""

    member: str
    good: str
    quantity: int
    points: int
    by_name: str | None
    created_at: datetime


def recent_redemptions(db: Session, village_id: int, limit: int = 20
                       ) -> list[RecentRedemption]:
    """The village's latest redemptions, newest first."""
    rows = db.exec(select(Redemption, ShopGood.name)
                   .join(ShopGood, col(ShopGood.id) == Redemption.good_id)
                   .where(Redemption.village_id == village_id)
                   .order_by(col(Redemption.created_at).desc(), col(Redemption.id).desc())
                   .limit(limit))
    return [RecentRedemption(r.user_name, name, r.quantity, r.points, r.by_name, r.created_at)
            for r, name in rows]


@dataclass(frozen=True)
class Shopper:
    """A member of a group with what they may spend."""

    user_id: str
    name: str
    balance: int


def shoppers(db: Session, group: Group) -> list[Shopper]:
    """The group's members with their balances, by name: whom the console may redeem for."""
    village_id = village_id_of(db, group)
    members = db.exec(select(Member).where(Member.group_id == group.id)
                      .order_by(col(Member.display_name), col(Member.id)))
    return [Shopper(m.user_id, m.display_name, balance(db, village_id, m.user_id))
            for m in members]
