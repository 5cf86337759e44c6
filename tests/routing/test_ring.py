from collections import Counter

from routing.ring import HashRing


def test_same_id_same_host_and_spread():
    ring = HashRing(4)
    ids = [f"{i:032x}" for i in range(20000)]
    owners = [ring.host_for(i) for i in ids]
    other = HashRing(4)  # the gateway builds its own ring; it must agree with the router's
    assert owners == [other.host_for(i) for i in ids]
    counts = Counter(owners)
    assert set(counts) == {0, 1, 2, 3}
    assert min(counts.values()) > 0.15 * len(ids)


def test_adding_a_host_moves_few_ids():
    ids = [f"{i:032x}" for i in range(20000)]
    before, after = HashRing(4), HashRing(5)
    moved = sum(before.host_for(i) != after.host_for(i) for i in ids)
    assert moved < 0.3 * len(ids)  # about 1/5 move; a modulo scheme would move 4/5
