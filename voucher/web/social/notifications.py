"""What was sent to the families, and what failed: the notifications of the vouchers a
social worker reaches (the admin sees all), newest first, failures and pending on request."""

from flask import render_template, request
from sqlalchemy import func, select

from ...extensions import db
from ...models import Notification, Voucher
from ...models.notification import NOTIFICATION_STATUSES
from ...services import reach
from ..security import current_actor, permission_required
from .blueprint import bp

PER_PAGE = 50


def notifications_of(voucher: Voucher) -> list[Notification]:
    """A voucher's notifications, newest first (its page shows them)."""
    return list(
        db.session.execute(
            select(Notification)
            .where(Notification.voucher_id == voucher.id)
            .order_by(Notification.id.desc())
            .limit(100)
        ).scalars()
    )


@bp.route("/notifiche")
@permission_required("notification.read")
def notifications():
    status = request.args.get("stato", "")
    status = status if status in NOTIFICATION_STATUSES else ""
    page = max(1, min(request.args.get("pagina", 1, type=int) or 1, 10_000))
    query = select(Notification).join(Voucher, Voucher.id == Notification.voucher_id)
    query = reach.within_reach(current_actor(), query, Voucher)
    if status:
        query = query.where(Notification.status == status)
    total = db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    shown = list(
        db.session.execute(
            query.order_by(Notification.id.desc()).limit(PER_PAGE).offset((page - 1) * PER_PAGE)
        ).scalars()
    )
    counts = dict(
        db.session.execute(
            reach.within_reach(
                current_actor(),
                select(Notification.status, func.count())
                .join(Voucher, Voucher.id == Notification.voucher_id)
                .group_by(Notification.status),
                Voucher,
            )
        ).all()
    )
    return render_template(
        "social/notifications.html",
        notifications=shown,
        status=status,
        counts=counts,
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
        total=total,
    )
