from __future__ import annotations

import asyncio

import pytest

from shop.auth.hash_queue import HashingBusy, HashSlots, Work


async def test_a_freed_slot_goes_to_a_verification_before_earlier_hashes() -> None:
    slots = HashSlots(1, max_wait=30)
    order: list[str] = []
    release = asyncio.Event()

    async def work(kind: Work, name: str) -> None:
        async with slots.slot(kind):
            order.append(name)
            if name == "first":
                await release.wait()

    first = asyncio.create_task(work(Work.HASH, "first"))
    await asyncio.sleep(0)
    hashes = [asyncio.create_task(work(Work.HASH, f"hash-{n}")) for n in range(3)]
    await asyncio.sleep(0)
    verify = asyncio.create_task(work(Work.VERIFY, "verify"))
    await asyncio.sleep(0)
    release.set()
    await asyncio.gather(first, verify, *hashes)

    assert order == ["first", "verify", "hash-0", "hash-1", "hash-2"]


async def test_waiting_past_the_deadline_raises_busy_and_loses_no_slot() -> None:
    slots = HashSlots(1, max_wait=0.05)
    held = asyncio.Event()
    done = asyncio.Event()

    async def hold() -> None:
        async with slots.slot(Work.HASH):
            held.set()
            await done.wait()

    holder = asyncio.create_task(hold())
    await held.wait()
    with pytest.raises(HashingBusy):
        async with slots.slot(Work.VERIFY):
            pass
    assert slots.waiting == 0
    done.set()
    await holder

    async with asyncio.timeout(5), slots.slot(Work.HASH):  # the slot came back
        pass


async def test_a_cancelled_waiter_leaves_the_queue() -> None:
    slots = HashSlots(1, max_wait=30)
    async with slots.slot(Work.HASH):
        waiter = asyncio.create_task(slots._acquire(Work.VERIFY))
        await asyncio.sleep(0)
        assert slots.waiting == 1
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert slots.waiting == 0
    async with asyncio.timeout(5), slots.slot(Work.VERIFY):
        pass
