"""User administration rules."""

import pytest

from tests import factories as f


def test_an_admin_cannot_disable_or_demote_themselves(app):
    """Another admin must do it: nobody locks themselves out of the ente by mistake."""
    from voucher.errors import Conflict
    from voucher.services import users

    admin = f.make_user("admin")
    other = f.make_user("admin")
    with pytest.raises(Conflict):
        users.set_active(users.actor_for(admin), admin, False)
    with pytest.raises(Conflict):
        users.set_role(users.actor_for(admin), admin, "auditor")
    users.set_active(users.actor_for(other), admin, False)
    assert admin.active is False
