"""GET /api/history: one's own movements, newest first, paged by an opaque keyset cursor."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from shop.auth.tokens import TokenCodec
from shop.db import migrate
from shop.models import HistoryResponse, encode_cursor
from shop.repositories import history as history_repo
from tests.api.conftest import Employee, MakeEmployee
from tests.conftest import TEST_SECRET, create_database, drop_database
from tests.helpers import ShopClient, bearer, expect

AT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


async def page_of(client: ShopClient, employee: Employee, **params: str | int) -> HistoryResponse:
    page = await client.history(employee.token, **params)
    assert isinstance(page, HistoryResponse)
    return page


async def test_a_new_employee_has_an_empty_history_and_no_next_page(
    client: ShopClient, make_employee: MakeEmployee
) -> None:
    ann = await make_employee()

    page = await page_of(client, ann)

    assert page.entries == []
    assert page.next is None


async def test_each_movement_is_one_entry_with_kind_counterparty_item_and_amount(
    client: ShopClient, make_employee: MakeEmployee
) -> None:
    alice = await make_employee(username="alice")
    bob = await make_employee(username="bob")
    started = datetime.now(UTC) - timedelta(seconds=5)
    await client.send_coin(alice.token, "bob", 30)
    await client.send_coin(bob.token, "alice", 5)
    await client.buy(alice.token, "cup")

    response = await client.http.get("/api/history", headers=bearer(alice.token))
    raw = await expect(response, 200)
    bobs = await page_of(client, bob)

    assert [(e["kind"], e["counterparty"], e["item"], e["amount"]) for e in raw["entries"]] == [
        ("purchase", None, "cup", 20),
        ("received", "bob", None, 5),
        ("sent", "bob", None, 30),
    ]
    assert [(e.kind, e.counterparty, e.amount) for e in bobs.entries] == [
        ("sent", "alice", 5),
        ("received", "alice", 30),
    ]
    assert raw["next"] is None
    entry = raw["entries"][0]
    assert set(entry) == {"id", "kind", "counterparty", "item", "amount", "at", "message", "reason"}
    assert entry["id"].startswith("purchase-")
    assert raw["entries"][2]["id"].startswith("transfer-")
    # one transfer is one ledger row: the same id in the sender's and the receiver's history
    assert raw["entries"][2]["id"] == bobs.entries[1].id
    for e in raw["entries"]:
        assert AT.fullmatch(e["at"]), e["at"]
        moment = datetime.strptime(e["at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        assert started <= moment <= datetime.now(UTC)


async def test_pages_follow_each_other_newest_first_until_next_is_null(
    client: ShopClient, make_employee: MakeEmployee
) -> None:
    cleo = await make_employee()
    for _ in range(25):
        await client.buy(cleo.token, "pen")

    whole = await page_of(client, cleo, limit=100)
    walked = await client.walk_history(cleo.token, limit=7)
    last = await page_of(client, cleo, limit=7, before=(await page_of(client, cleo, limit=21)).next)

    assert len(whole.entries) == 25
    assert whole.next is None
    assert walked == [e.id for e in whole.entries]
    ids = [int(e.id.removeprefix("purchase-")) for e in whole.entries]
    assert ids == sorted(ids, reverse=True)  # one buyer's purchases: newest first
    assert [e.id for e in last.entries] == walked[21:]
    assert last.next is None


async def test_limit_defaults_to_20_and_goes_up_to_100(
    client: ShopClient, make_employee: MakeEmployee
) -> None:
    dan = await make_employee()
    eve = await make_employee()
    await client.send_coin(eve.token, dan.username, 1)
    for _ in range(100):  # 100 pens: every coin dan had
        await client.buy(dan.token, "pen")

    default = await page_of(client, dan)
    most = await page_of(client, dan, limit=100)
    rest = await page_of(client, dan, limit=100, before=most.next or "")
    one = await page_of(client, dan, limit=1)

    assert len(default.entries) == 20
    assert default.next is not None
    assert len(most.entries) == 100
    assert [(e.kind, e.counterparty) for e in rest.entries] == [("received", eve.username)]
    assert rest.next is None
    assert [e.id for e in one.entries] == [most.entries[0].id]


async def test_another_employees_movements_are_never_shown(
    client: ShopClient, make_employee: MakeEmployee
) -> None:
    alice = await make_employee()
    carol = await make_employee()
    dave = await make_employee()
    await client.buy(alice.token, "socks")
    for _ in range(5):
        await client.send_coin(carol.token, dave.username, 2)
        await client.buy(dave.token, "pen")
    carols_cursor = (await page_of(client, carol, limit=1)).next
    assert carols_cursor is not None

    mine = await page_of(client, alice, limit=100)
    with_their_cursor = await page_of(client, alice, limit=100, before=carols_cursor)

    assert [(e.kind, e.item) for e in mine.entries] == [("purchase", "socks")]
    # a cursor is a position, not a permission: with someone else's, one still sees only one's own
    assert {e.id for e in with_their_cursor.entries} <= {e.id for e in mine.entries}


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no token"),
        pytest.param({"Authorization": "Bearer not-a-jwt"}, id="bad token"),
        pytest.param({"Authorization": "Basic YWxpY2U6c2VjcmV0"}, id="other scheme"),
    ],
)
async def test_history_needs_a_valid_token(client: ShopClient, headers: dict[str, str]) -> None:
    response = await client.http.get("/api/history", headers=headers)

    await expect(response, 401)


async def test_a_token_of_an_employee_that_does_not_exist_is_refused(client: ShopClient) -> None:
    ghost = TokenCodec(TEST_SECRET, 60).issue(987654, "ghost")

    body = await client.history(ghost, expected_status=401)

    assert body == {"errors": "employee no longer exists"}


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


BAD_QUERIES: dict[str, tuple[dict[str, str], str]] = {
    "limit zero": ({"limit": "0"}, "limit: must be a whole number from 1 to 100"),
    "limit 101": ({"limit": "101"}, "limit: must be a whole number from 1 to 100"),
    "negative limit": ({"limit": "-5"}, "limit: must be a whole number"),
    "fractional limit": ({"limit": "2.5"}, "limit: must be a whole number"),
    "limit in words": ({"limit": "ten"}, "limit: must be a whole number"),
    "empty limit": ({"limit": ""}, "limit: must be a whole number"),
    "padded limit": ({"limit": " 5"}, "limit: must be a whole number"),
    "huge limit": ({"limit": "9" * 40}, "limit: must be a whole number"),
    "unicode digits": ({"limit": "\u0665"}, "limit: must be a whole number"),
    "empty cursor": ({"before": ""}, "before: not a cursor this API gave out"),
    "cursor not base64": ({"before": "!!!"}, "before: not a cursor"),
    "cursor of other text": ({"before": b64("hello")}, "before: not a cursor"),
    "cursor of another version": ({"before": b64("h2:5")}, "before: not a cursor"),
    "cursor at zero": ({"before": b64("h1:0")}, "before: not a cursor"),
    "cursor past bigint": ({"before": b64(f"h1:{2**63}")}, "before: not a cursor"),
    "cursor with padding": ({"before": b64("h1:5") + "="}, "before: not a cursor"),
    "cursor of binary": ({"before": "_-_-"}, "before: not a cursor"),
    "cursor too long": ({"before": "A" * 100}, "before: not a cursor"),
    "unknown parameter": ({"offset": "20"}, "offset: extra inputs are not permitted"),
}


@pytest.mark.parametrize(("query", "message"), BAD_QUERIES.values(), ids=BAD_QUERIES.keys())
async def test_a_bad_limit_cursor_or_parameter_is_a_400_saying_which(
    client: ShopClient, make_employee: MakeEmployee, query: dict[str, str], message: str
) -> None:
    fay = await make_employee()

    body = await client.history(fay.token, expected_status=400, **query)

    assert isinstance(body, dict)
    assert body["errors"].startswith(message), body


@pytest.mark.parametrize("name", ["limit", "before"])
async def test_a_parameter_given_twice_is_a_400(
    client: ShopClient, make_employee: MakeEmployee, name: str
) -> None:
    gus = await make_employee()
    value = "5" if name == "limit" else encode_cursor(5)

    response = await client.http.get(
        f"/api/history?{name}={value}&{name}={value}", headers=bearer(gus.token)
    )

    assert (await expect(response, 400))["errors"] == f"{name}: must be given at most once"


async def test_paging_yields_each_movement_once_in_order_while_new_ones_arrive(
    client: ShopClient, make_employee: MakeEmployee, db: asyncpg.Connection
) -> None:
    """Walks that run while transfers and purchases of the same employee commit around them.

    Each walk must be exactly the oldest part of the final history (no movement twice, none
    skipped, in the final order) and must contain every movement committed before it began.
    """
    hal = await make_employee()
    ida = await make_employee()
    jon = await make_employee()
    kim = await make_employee()
    for _ in range(10):
        await client.buy(hal.token, "pen")
    rounds = 30
    done = asyncio.Event()

    async def writer(action: Any) -> None:
        for _ in range(rounds):
            await action()

    async def write_all() -> None:
        try:
            await asyncio.gather(
                writer(lambda: client.send_coin(ida.token, hal.username, 1)),
                writer(lambda: client.send_coin(jon.token, hal.username, 2)),
                writer(lambda: client.send_coin(hal.token, kim.username, 1)),
                writer(lambda: client.buy(hal.token, "socks")),
            )
        finally:
            done.set()

    async def count_committed() -> int:
        return await db.fetchval(
            "SELECT (SELECT count(*) FROM transfers t JOIN users u ON u.id IN"
            " (t.sender_id, t.receiver_id) WHERE u.username = $1)"
            " + (SELECT count(*) FROM purchases p JOIN users u ON u.id = p.user_id"
            " WHERE u.username = $1)",
            hal.username,
        )

    walks: list[tuple[int, list[str]]] = []

    async def walk_repeatedly() -> None:
        while not done.is_set() or len(walks) < 3:
            committed_before = await count_committed()
            walks.append((committed_before, await client.walk_history(hal.token, limit=3)))

    async with asyncio.timeout(120):  # a hang guard only
        await asyncio.gather(write_all(), walk_repeatedly())
    final = await client.walk_history(hal.token, limit=100)

    assert len(final) == 10 + 4 * rounds == len(set(final))
    grew = False
    for committed_before, walk in walks:
        assert len(walk) == len(set(walk)), "a movement appeared twice in one walk"
        assert len(walk) >= committed_before, "a walk missed a movement committed before it"
        assert walk == final[len(final) - len(walk) :], "a walk is not the oldest part, in order"
        grew = grew or len(walk) < len(final)
    assert grew, "no walk ran while movements arrived"


async def test_a_movement_committed_after_a_later_started_one_is_listed_above_it(
    client: ShopClient, make_employee: MakeEmployee, database_url: str, db: asyncpg.Connection
) -> None:
    """Why the ledger order is not created_at: a writer whose transaction began before another
    movement but committed after it. created_at (its start) would put it below a page already
    shown, where a paging client never sees it; the ledger order puts it on top."""
    lea = await make_employee()
    max_ = await make_employee()
    for _ in range(4):
        await client.buy(lea.token, "pen")
    slow = await asyncpg.connect(database_url)
    try:
        transaction = slow.transaction()
        await transaction.start()
        await slow.fetchval("SELECT now()")  # the transaction's time is fixed from here on
        await client.send_coin(max_.token, lea.username, 7)  # starts and commits meanwhile
        first = await page_of(client, lea, limit=2)
        # the slow writer does what the procedures do: lock the buyer's row, then the ledger
        await slow.execute(
            "UPDATE users SET balance = balance - 20 WHERE username = $1", lea.username
        )
        await slow.execute(
            "INSERT INTO purchases (user_id, item, price)"
            " SELECT id, 'cup', 20 FROM users WHERE username = $1",
            lea.username,
        )
        await slow.execute(
            "INSERT INTO inventory (user_id, item, quantity)"
            " SELECT id, 'cup', 1 FROM users WHERE username = $1",
            lea.username,
        )
        await transaction.commit()
    finally:
        await slow.close()
    continued = [e.id for e in first.entries]
    cursor = first.next
    while cursor is not None:
        page = await page_of(client, lea, limit=2, before=cursor)
        continued += [e.id for e in page.entries]
        cursor = page.next
    fresh = await page_of(client, lea, limit=100)

    late, transfer = fresh.entries[0], fresh.entries[1]
    assert (late.kind, late.item, transfer.kind) == ("purchase", "cup", "received")
    assert late.at <= transfer.at  # it started first ...
    assert late.id not in continued  # ... and is newer than the walk that began before it
    assert continued == [e.id for e in fresh.entries[1:]]  # which saw all else exactly once
    assert await db.fetchval("SELECT count(*) FROM purchases") == 5


def plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)


async def test_a_page_reads_one_page_per_branch_through_the_indexes_however_long_the_history(
    db: asyncpg.Connection,
) -> None:
    """The page statement, on a ledger where one employee has 9,000 movements among 30,000:
    no sequential scan, and no node reads or sorts more than a page, first page or deep.
    (5,000 employees, so that the planner weighs the users table as it would in service.)"""
    await db.execute(
        "INSERT INTO users (username, password_hash, balance)"
        " SELECT 'u' || n, 'x', 1000000 FROM generate_series(1, 5000) n"
    )
    await db.execute(
        "INSERT INTO transfers (sender_id, receiver_id, amount)"
        " SELECT 1 + n % 2, 2 - n % 2, 1 FROM generate_series(1, 6000) n"
    )
    await db.execute(
        "INSERT INTO purchases (user_id, item, price)"
        " SELECT 1, 'pen', 10 FROM generate_series(1, 3000)"
    )
    await db.execute(
        "INSERT INTO transfers (sender_id, receiver_id, amount)"
        " SELECT 3 + n % 2, 4 - n % 2, 1 FROM generate_series(1, 21000) n"
    )
    await db.execute("ANALYZE transfers, purchases, users")
    deep = await db.fetchval(
        "SELECT seq FROM purchases WHERE user_id = 1 ORDER BY seq LIMIT 1 OFFSET 100"
    )
    limit = 21

    for before in (history_repo.NEWEST, deep):
        plan = json.loads(
            await db.fetchval(
                "EXPLAIN (ANALYZE, FORMAT JSON) " + history_repo.PAGE, 1, "u1", before, limit
            )
        )[0]["Plan"]
        nodes = list(plan_nodes(plan))
        kinds = {node["Node Type"] for node in nodes}
        assert "Seq Scan" not in kinds, kinds
        ledger_scans = [n for n in nodes if n.get("Relation Name") in {"transfers", "purchases"}]
        assert len(ledger_scans) == 3
        for node in ledger_scans:
            assert node["Node Type"] in {"Index Scan", "Index Only Scan"}, node["Node Type"]
            assert node["Index Name"].endswith("_seq_idx"), node["Index Name"]
            assert node["Actual Rows"] * node["Actual Loops"] <= limit
        for node in nodes:  # merging and sorting see the three branches' pages at most
            assert node["Actual Rows"] * node["Actual Loops"] <= 3 * limit, node["Node Type"]
        assert plan["Actual Rows"] == limit


@pytest.fixture
def scratch_database(admin_url: str) -> Iterator[str]:
    name, url = create_database(admin_url)
    try:
        yield url
    finally:
        drop_database(admin_url, name)


async def test_the_migration_orders_existing_movements_by_time_below_new_ones(
    scratch_database: str,
) -> None:
    """Rows written before 0010 get their place from created_at, whatever their insertion order."""
    applied = migrate.apply(scratch_database)
    conn = await asyncpg.connect(scratch_database)
    try:
        await conn.execute(
            "INSERT INTO users (username, password_hash, balance)"
            " VALUES ('ann', 'x', 1000), ('ben', 'x', 1000)"
        )
        await conn.execute(
            "INSERT INTO transfers (sender_id, receiver_id, amount, created_at) VALUES"
            " (1, 2, 5, '2026-01-02'), (2, 1, 3, '2026-01-01'), (1, 2, 1, '2026-01-04')"
        )
        await conn.execute(
            "INSERT INTO purchases (user_id, item, price, created_at) VALUES"
            " (1, 'pen', 10, '2026-01-03'), (1, 'cup', 20, '2026-01-05')"
        )
        undone = migrate.rollback(scratch_database, applied[::-1].index("0010_history_index") + 1)
        assert undone[-1] == "0010_history_index"
        assert "0010_history_index" in migrate.apply(scratch_database)
        await conn.execute("INSERT INTO purchases (user_id, item, price) VALUES (1, 'pen', 10)")

        rows = await history_repo.page(conn, 1, "ann", history_repo.NEWEST, 10)
    finally:
        await conn.close()

    assert rows is not None
    assert [(r.kind, r.id) for r in rows] == [
        ("purchase", 3),  # inserted after the migration: newest, whatever its time
        ("purchase", 2),
        ("sent", 3),
        ("purchase", 1),
        ("sent", 1),
        ("received", 2),
    ]
