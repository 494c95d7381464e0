"""Sections 6 and 7: checkouts paid by signed webhooks (a redelivery has no effect), then paid
bookings cancelled with the refund and commission the tenant's policy gives."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from booking_core.demo._format import day, days, format_money, format_table, short
from booking_core.domain.model import (
    BookingStatus,
    CancellationPolicy,
    CustomerDetails,
    InboxState,
    RefundState,
    RefundTier,
)
from booking_core.domain.rules import local_today
from booking_core.ports.payments import PaymentEventType
from booking_core.services.bookings import Checkout
from booking_core.services.webhooks import WebhookReceipt

if TYPE_CHECKING:
    from booking_core.demo._tour import Tour


@dataclass(frozen=True)
class Payer:
    """A customer of the payments sections: what they buy and when their event is."""

    name: str
    email: str
    days_ahead: int
    package: str
    add_ons: tuple[tuple[str, int], ...] = ()
    reason: str = ""


#: The first pays and keeps her booking; the others pay and cancel, one per refund tier.
PAYERS = (
    Payer("Lea Rousseau", "lea@example.fr", 45, "full-day", (("album", 1),)),
    Payer("Marc Lefevre", "marc@example.fr", 40, "half-day", (("prints", 2),), "moved abroad"),
    Payer("Sofia Moretti", "sofia@example.it", 10, "elopement", (("prints", 3),), "new date"),
    Payer("Noah Bernard", "noah@example.fr", 5, "elopement", (), "changed plans"),
)
#: The default tiers, plus a fixed fee kept from any refund.
CANCELLATION = CancellationPolicy(tiers=(RefundTier(30, 100), RefundTier(7, 50)), fee=2_500)


def _checkout(tour: Tour, payer: Payer) -> Checkout:
    shop = tour.paris
    return tour.app.bookings.checkout(
        shop.tenant.id,
        package_id=shop.packages[payer.package].id,
        date=shop.today + dt.timedelta(days=payer.days_ahead),
        customer=CustomerDetails(payer.name, payer.email),
        add_ons={shop.add_ons[slug].id: qty for slug, qty in payer.add_ons},
        idempotency_key=f"demo-checkout:{payer.email}",
    )


def checkout_and_pay(tour: Tour) -> dict[str, Checkout]:
    """Section 6: checkouts, one signed webhook per payment, one webhook redelivered."""
    app, out, checks, provider = tour.app, tour.out, tour.checks, tour.provider
    t = tour.paris.tenant.id
    made = {payer.name: _checkout(tour, payer) for payer in PAYERS}
    rows = [
        [
            short(c.booking.id),
            day(c.booking.event_date),
            name,
            c.booking.status.value,
            format_money(c.booking.total, c.booking.currency),
            format_money(c.booking.commission, c.booking.currency),
            c.session.payment_ref,
        ]
        for name, c in made.items()
    ]
    headers = ["Booking", "Event date", "Customer", "Status", "Total", "Commission", "Payment"]
    out("Four customers check out: each gets a hold and a payment (platform fee = commission).")
    out()
    out(format_table(headers, rows, "llllrrl"))
    out()
    lea = made[PAYERS[0].name]
    replay = _checkout(tour, PAYERS[0])
    same = (replay.booking.id, replay.session) == (lea.booking.id, lea.session)
    out(f"{PAYERS[0].name} is sent to {lea.session.redirect_url}")
    out(
        "Her checkout retried with the same idempotency key: "
        + ("the same booking and payment." if same else "A SECOND BOOKING.")
    )
    checks.expect(
        all(c.booking.status is BookingStatus.PENDING for c in made.values()),
        "every checkout holds its date (PENDING)",
    )
    checks.expect(same, "a retried checkout returns the same booking and payment")

    webhooks = {
        name: provider.make_webhook(
            PaymentEventType.PAYMENT_SUCCEEDED,
            tenant_id=t,
            booking_id=c.booking.id,
            payment_ref=c.session.payment_ref,
            amount=c.booking.total,
            currency=c.booking.currency,
        )
        for name, c in made.items()
    }
    deliveries: list[tuple[str, str, WebhookReceipt]] = [
        ("first", name, app.webhooks.receive(t, body, signed))
        for name, (body, signed) in webhooks.items()
    ]
    lea_webhook = webhooks[PAYERS[0].name]
    before = app.bookings.get(t, lea.booking.id)
    again = app.webhooks.receive(t, *lea_webhook)
    after = app.bookings.get(t, lea.booking.id)
    deliveries.insert(1, ("redelivered", PAYERS[0].name, again))
    names = ", ".join(sorted(lea_webhook[1]))
    out()
    out(
        f"The provider signs a {PaymentEventType.PAYMENT_SUCCEEDED} webhook per payment "
        f"(headers: {names});"
    )
    out(f"{PAYERS[0].name}'s is then delivered a second time, byte for byte:")
    out()
    statuses = {name: app.bookings.get(t, c.booking.id) for name, c in made.items()}
    out(
        format_table(
            ["Delivery", "Customer", "Event id", "State", "Duplicate", "Outcome", "Booking"],
            [
                [
                    delivery,
                    name,
                    r.event_id,
                    r.state.value,
                    "yes" if r.duplicate else "no",
                    r.outcome or "-",
                    statuses[name].status.value,
                ]
                for delivery, name, r in deliveries
            ],
        )
    )
    out()
    unchanged = before == after
    out(
        f"After the redelivery {PAYERS[0].name}'s booking is {after.status.value}, "
        f"paid {format_money(after.amount_paid, after.currency)}, version {after.version}: "
        + ("unchanged." if unchanged else "CHANGED.")
    )
    firsts = [r for delivery, _, r in deliveries if delivery == "first"]
    checks.expect(
        all(
            r.state is InboxState.PROCESSED and not r.duplicate and r.outcome == "confirmed"
            for r in firsts
        ),
        "each first webhook delivery is PROCESSED and confirms its booking",
    )
    checks.expect(
        again.duplicate
        and again.state is InboxState.PROCESSED
        and again.event_id == firsts[0].event_id,
        "the redelivered webhook is acknowledged as a duplicate of the same event",
    )
    checks.expect(unchanged, "the redelivery has no effect on the booking")
    checks.expect(
        all(
            b.status is BookingStatus.CONFIRMED
            and b.payment_ref == made[name].session.payment_ref
            and b.amount_paid == b.total
            for name, b in statuses.items()
        ),
        "every paid booking is CONFIRMED with its payment and amount",
    )
    paid = provider.payments
    checks.expect(
        all(paid[c.session.payment_ref].status == "succeeded" for c in made.values()),
        "the provider records every payment as succeeded",
    )
    return made


def cancel_paid(tour: Tour, made: dict[str, Checkout]) -> None:
    """Section 7: three paid bookings cancelled; refunds and commission by the policy."""
    app, out, checks, provider = tour.app, tour.out, tour.checks, tour.provider
    tenant = app.tenants.update_cancellation_policy(tour.paris.tenant.id, CANCELLATION)
    policy = tenant.cancellation
    tiers = ", ".join(f"{tier.percent}% from {days(tier.days_before)}" for tier in policy.tiers)
    out(f"{tenant.name}'s cancellation policy refunds {tiers} before the event,")
    fee = format_money(policy.fee, tenant.currency)
    out(f"nothing later, and keeps a {fee} fee from any refund.")
    out()
    out("  refund            = floor(paid x tier % / 100) - fee, not below 0")
    out("  commission refund = ceil(commission x refund / total), 0 without a refund")
    out()
    rows: list[list[object]] = []
    for payer in PAYERS[1:]:
        booking_id = made[payer.name].booking.id
        result = app.bookings.cancel(tenant.id, booking_id, reason=payer.reason)
        booking = result.booking
        ahead = (booking.event_date - local_today(app.clock.now(), tenant.timezone)).days
        percent = next((x.percent for x in policy.tiers if ahead >= x.days_before), 0)
        refund = max(0, booking.amount_paid * percent // 100 - policy.fee)
        commission = (
            min(booking.commission, -(-booking.commission * refund // booking.total))
            if refund > 0
            else 0
        )
        state = "no refund" if result.refund is None else result.refund.state.value
        money = booking.currency
        rows.append(
            [
                short(booking.id),
                payer.name,
                days(ahead),
                f"{percent}%",
                format_money(booking.amount_paid, money),
                format_money(result.refund_amount, money),
                format_money(booking.commission, money),
                format_money(result.commission_refund, money),
                state,
            ]
        )
        who = f"{payer.name} ({days(ahead)} ahead, {percent}%)"
        checks.expect(booking.status is BookingStatus.CANCELED, f"{who} is CANCELED")
        checks.expect(
            result.refund_amount == refund == booking.amount_refunded,
            f"{who}: refund = floor(paid x tier / 100) - fee = {refund}",
        )
        checks.expect(
            result.commission_refund == commission == booking.commission_refunded,
            f"{who}: commission refund = ceil(commission x refund / total) = {commission}",
        )
        settled = result.refund is not None and result.refund.state is RefundState.SUCCEEDED
        checks.expect(
            settled if refund > 0 else result.refund is None,
            f"{who}: the refund is {'SUCCEEDED' if refund > 0 else 'not created'}",
        )
        at_provider = provider.payments[made[payer.name].session.payment_ref].refunded
        checks.expect(at_provider == refund, f"{who}: the provider refunded {refund}")
        free = app.availability.check(tenant.id, booking.event_date).available
        checks.expect(free, f"{who}: the date is free again")
    out(
        format_table(
            [
                "Booking",
                "Customer",
                "Days before",
                "Tier",
                "Paid",
                "Refund",
                "Commission",
                "Comm. refund",
                "Refund state",
            ],
            rows,
            "llrrrrrrl",
        )
    )
    out()
    out(
        f"The provider executed {len(provider.refunds)} refunds; "
        "the cancelled dates are free again."
    )
