"""Bulk writers number versions as next_version does: by received order, the latest received current."""

from __future__ import annotations

import datetime as dt

from warehouse.versions import Version, in_received_order


def test_versions_follow_the_received_order_whatever_the_written_order() -> None:
    day = dt.datetime(2020, 10, 5, tzinfo=dt.UTC)
    got = in_received_order([day + dt.timedelta(days=3), day, day + dt.timedelta(days=1)])
    assert got == [Version(3, True, None), Version(1, False, None), Version(2, False, None)]
    assert in_received_order([day]) == [Version(1, True, None)]
