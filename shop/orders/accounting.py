"""What an order's money was for, in accounting's words: gross, refunded, net, goods, gift.

One rule for receipts, the staff's CSV and anything else that splits money for tax.
"""

from __future__ import annotations

from dataclasses import dataclass

from shop.orders.models import Order

# The gift line a donor adds by covering the processing fee (shop.orders.service).
FEE_LINE_NAME = "Processing fee, covered by you"


@dataclass(frozen=True)
class Split:
    """An order's money in minor units. goods + gift == net."""

    gross: int  # what the donor paid
    refunded: int
    goods: int  # what remains a purchase of care packages
    gift: int  # what remains a gift (the covered fee included)
    fee_covered: int  # the processing fee the donor chose to cover, part of the gift

    @property
    def net(self) -> int:
        return self.gross - self.refunded


def kept(goods_cents: int, gift_cents: int, refunded_cents: int) -> tuple[int, int]:
    """What remains of the goods and of the gift after a refund.

    A refund is not made per line, so a rule decides: it comes off the gift first, then
    the goods. A receipt then never acknowledges more of a gift than the charity kept.
    """
    refunded = max(0, refunded_cents)
    gift_back = min(gift_cents, refunded)
    goods_back = min(goods_cents, refunded - gift_back)
    return goods_cents - goods_back, gift_cents - gift_back


def split(order: Order) -> Split:
    goods = sum(line.line_total_cents for line in order.lines if line.kind == "package")
    gift = sum(line.line_total_cents for line in order.lines if line.kind == "donation")
    fee = sum(line.line_total_cents for line in order.lines
              if line.kind == "donation" and line.name == FEE_LINE_NAME)
    refunded = order.refunded_cents or 0
    goods_kept, gift_kept = kept(goods, gift, refunded)
    return Split(gross=goods + gift, refunded=refunded, goods=goods_kept,
                 gift=gift_kept, fee_covered=fee)
