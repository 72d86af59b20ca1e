"""The cycle collector pause used around the charge and statement building loops."""

from __future__ import annotations

import gc
import weakref

import pytest

from connector.gc_pause import cycle_collector_paused


class Node:
    """A tracked object that can sit in a cycle and be watched by a weak reference."""

    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_the_collector_is_off_inside_and_back_on_after(collector_on):
    with cycle_collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_the_collector_comes_back_when_the_block_fails(collector_on):
    with pytest.raises(RuntimeError), cycle_collector_paused():
        raise RuntimeError("part failed")
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off():
    was = gc.isenabled()
    gc.disable()
    try:
        with cycle_collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        if was:
            gc.enable()


def test_what_the_block_made_goes_to_the_oldest_generation_unscanned(collector_on):
    with cycle_collector_paused():
        made = [Node() for _ in range(1000)]
        assert any(obj is made[0] for obj in gc.get_objects(generation=0))
    oldest = {id(obj) for obj in gc.get_objects(generation=2)}
    assert all(id(node) in oldest for node in made)
    assert gc.get_freeze_count() == 0


def test_a_cycle_made_inside_is_freed_by_the_next_full_collection(collector_on):
    with cycle_collector_paused():
        first, second = Node(), Node()
        first.other, second.other = second, first
        watched = weakref.ref(first)
        del first, second
    gc.collect(1)  # a young collection no longer sees it
    assert watched() is not None
    gc.collect()
    assert watched() is None


def test_objects_someone_else_froze_stay_frozen(collector_on):
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with cycle_collector_paused():
            made = Node()
        assert gc.get_freeze_count() == frozen
        assert any(obj is made for obj in gc.get_objects(generation=0))
    finally:
        gc.unfreeze()
