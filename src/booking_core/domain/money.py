"""Money rules. Amounts are integers in minor units (cents); percentages are exact decimals."""

from __future__ import annotations

from decimal import Decimal


def ceil_div(numerator: int, denominator: int) -> int:
    """Integer ceiling of ``numerator / denominator`` without floats."""
    return -(-numerator // denominator)


def commission_for(total: int, percent: Decimal) -> int:
    """Platform commission ``ceil(total × percent / 100)``, exact for decimal percents (in
    integers: a percent is an exact ratio of two)."""
    numerator, denominator = percent.as_integer_ratio()
    return ceil_div(total * numerator, denominator * 100)


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


def plain_decimal(number: Decimal) -> Decimal:
    """``number`` without trailing zeros and without an exponent: 10, 7.5, 0.25 (never 1E+1).

    One form wherever a percent comes from (validated input, a database row), so it prints as
    a reader expects and compares equal as it always did.
    """
    if number.is_zero():
        return Decimal(0)  # not "0E-2", nor "-0"
    number = number.normalize()
    return number.quantize(Decimal(1)) if number == number.to_integral_value() else number
