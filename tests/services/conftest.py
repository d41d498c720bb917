import pytest

from tests.services.world import make_world


@pytest.fixture
def world(app):
    """An ente, an hourly scheme (500 € per voucher, 20 € an hour), an accredited provider,
    a beneficiary and one voucher issued on DAY."""
    return make_world()
