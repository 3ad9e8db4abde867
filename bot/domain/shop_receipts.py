"""Receipts of the points shop: what a member is told, and how the running bot sends one the
command line recorded."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.core.adapter import AdapterError
from bot.core.db import in_session
from bot.core.messages import OutgoingText
from bot.core.models import Group, Redemption, ShopGood
from bot.domain.shop import Receipt, balance
from bot.outbox import Outbox
from scheduler.models import Timer
from scheduler.timers import AlwaysDue

log = logging.getLogger(__name__)

RECEIPT_KIND = "shop.receipt"  # the CLI recorded a redemption: the running bot sends the receipt


def receipt_message(receipt: Receipt) -> OutgoingText:
    """The member's receipt: privately where the platform can, else one @-line in the group."""
    return OutgoingText(receipt.receipt(), private_to=receipt.user_id)


def receipt_ref(redemption_id: int) -> str:
    """The timer ref asking the running bot to send one receipt: `redemption:12`."""
    return f"redemption:{redemption_id}"


def _receipt_of(db: Session, redemption_id: int) -> tuple[Group, Receipt] | None:
    row = db.get(Redemption, redemption_id)
    if row is None:
        return None
    group, good = db.get(Group, row.group_id), db.get(ShopGood, row.good_id)
    if group is None or good is None:
        return None
    left = balance(db, row.village_id, row.user_id)
    return group, Receipt(redemption_id, row.user_id, row.user_name, good.name, row.quantity,
                          row.points, left)


async def send_receipt(outbox: Outbox, group: Group, receipt: Receipt) -> None:
    """Send a member their receipt in the group's chat."""
    await outbox.send(group.platform, group.chat_id, [receipt_message(receipt)])


class ShopReceipts:
    """Sends the receipts of redemptions recorded outside the running bot."""

    def __init__(self, engine: Engine, outbox: Outbox) -> None:
        self.engine = engine
        self.outbox = outbox

    def handlers(self) -> dict[str, Callable[[Timer], Awaitable[None]]]:
        """Timer kinds this handles, for `Scheduler(timer_handlers=...)`."""
        # A receipt found late (after a restart) still tells the member what they spent.
        return {RECEIPT_KIND: AlwaysDue(self.send)}

    async def send(self, timer: Timer) -> None:
        """Send the receipt the timer names."""
        found = await in_session(self.engine, _receipt_of, int(timer.ref.split(":")[1]))
        if found is None:
            return
        try:
            await send_receipt(self.outbox, *found)
        except AdapterError as exc:
            log.warning("%s: receipt not sent: %s", timer.ref, exc)
