"""Identifiers cut from keyed hashes: unique, hex, the asked length, unrelated to each other."""

from __future__ import annotations

import threading

from tamas.core import ids
from tamas.core.ids import new_id


def test_ids_are_hex_of_the_asked_length() -> None:
    for nbytes in (1, 6, 8, 10, 12, ids.SLOT, ids.SLOT + 1, 32, 64):
        value = new_id(nbytes)
        assert len(value) == 2 * nbytes
        assert int(value, 16) >= 0
        assert value == value.lower()


def test_ids_never_repeat_across_slots_blocks_and_sizes() -> None:
    made = [new_id(n) for _ in range(2000) for n in (6, 10, 12, 16, 20)]
    assert len(set(made)) == len(made)


def test_ids_of_one_hash_do_not_overlap() -> None:
    # Four identifiers in a row share one hash: each must come from its own slot, not from
    # a shifted view of the same bytes.
    first = [new_id(ids.SLOT) for _ in range(4 * 8)]
    for a in first:
        for b in first:
            if a is not b:
                assert a[:8] not in b


def test_ids_stay_unique_across_threads() -> None:
    out: list[list[str]] = [[] for _ in range(4)]

    def make(bucket: list[str]) -> None:
        bucket.extend(new_id(6) for _ in range(5000))

    threads = [threading.Thread(target=make, args=(b,)) for b in out]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    made = [i for bucket in out for i in bucket]
    assert len(set(made)) == len(made) == 20000
