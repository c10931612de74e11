"""The bench's knotd: a server is ready only when its own knotd serves, never another's."""

from __future__ import annotations

import dns.message
import dns.query
import pytest

from tests.integration.knot import KnotServer
from tests.integration.seed_zone import seed_zones, stale_eureka1_zones

pytestmark = pytest.mark.integration


def test_a_knotd_that_cannot_bind_is_not_ready_though_another_answers_on_its_port() -> None:
    """A port taken between free_port() and knotd's bind (a concurrent run): the knotd
    that lost exits, and the one that holds the port must not pass for it. Else a test's
    "current" server answers with another server's zones (a stale replica named wrong)."""
    with KnotServer(seed_zones()) as holder:
        late = KnotServer(stale_eureka1_zones(), port=holder.port)
        with pytest.raises(RuntimeError, match="address already in use"):
            late.start()
        # The holder still answers alone, with its own zone (eureka-1's current address).
        query = dns.message.make_query("eureka-1.eureka.ms.svc.cluster.local.", "A")
        reply = dns.query.udp(query, "127.0.0.1", port=holder.port, timeout=2)
        assert [rr.address for rrset in reply.answer for rr in rrset] == ["10.244.2.45"]
