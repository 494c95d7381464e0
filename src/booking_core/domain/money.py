"""Money rules. Amounts are integers in minor units (cents); percentages are exact decimals."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction


def ceil_div(numerator: int, denominator: int) -> int:
    """Integer ceiling of ``numerator / denominator`` without floats."""
    return -(-numerator // denominator)


def commission_for(total: int, percent: Decimal) -> int:
    """Platform commission ``ceil(total × percent / 100)``, exact for decimal percents."""
    ratio = Fraction(percent) * total / 100
    return ceil_div(ratio.numerator, ratio.denominator)


def refund_for(paid: int, percent: int, fee: int) -> int:
    """What a cancellation refunds: ``floor(paid × percent / 100) − fee``, never below 0.

    Rounds down: a refund never returns a fraction of a minor unit that was not paid.
    """
    return max(0, paid * percent // 100 - fee)


def commission_refund(commission: int, refund: int, total: int) -> int:
    """Commission returned with a refund: ``ceil(commission × refund / total)``.

    0 when the refund is ≤ 0 (or the total is 0), capped at the whole commission.
    """
    if refund <= 0 or total <= 0:
        return 0
    return min(commission, ceil_div(commission * refund, total))
