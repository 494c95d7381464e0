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
