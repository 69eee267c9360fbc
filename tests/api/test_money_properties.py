"""Property-based tests of the money rules: any sequence of operations, valid or not, keeps
the books balanced and every wallet equal to what a plain Python model of the rules predicts.

Hypothesis runs many examples inside one test call, so function-scoped fixtures cannot give
each example a fresh state: every example empties the tables and starts its own app.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import asyncpg
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shop.app import create_app
from shop.catalog import PRICES, STARTING_BALANCE
from shop.config import Settings
from shop.models import MAX_AMOUNT
from shop.services.audit import run_audit
from tests.conftest import EMPTY_TABLES
from tests.helpers import ShopClient, bearer

EMPLOYEES = 4
NOBODY = EMPLOYEES
"""An index past the last employee: a recipient that does not exist."""


def name(index: int) -> str:
    return f"prop-{index}"


@dataclass(frozen=True)
class Transfer:
    sender: int
    receiver: int
    amount: object


@dataclass(frozen=True)
class Buy:
    buyer: int
    item: str


Operation = Transfer | Buy

amounts = st.one_of(
    st.integers(min_value=1, max_value=400),
    st.integers(min_value=-10, max_value=0),
    st.integers(min_value=900, max_value=1200),
    st.sampled_from([MAX_AMOUNT, MAX_AMOUNT + 1, 2**63, "5", 5.0, 2.5, None, True, [5]]),
)
operations = st.one_of(
    st.builds(
        Transfer,
        sender=st.integers(0, EMPLOYEES - 1),
        receiver=st.integers(0, NOBODY),
        amount=amounts,
    ),
    st.builds(
        Buy,
        buyer=st.integers(0, EMPLOYEES - 1),
        item=st.sampled_from([*PRICES, "laptop", "T-Shirt", "pen ", "pens"]),
    ),
)


@dataclass
class Model:
    """The rules, stated as plainly as possible."""

    balances: list[int] = field(default_factory=lambda: [STARTING_BALANCE] * EMPLOYEES)
    inventory: list[Counter[str]] = field(
        default_factory=lambda: [Counter() for _ in range(EMPLOYEES)]
    )
    sent: list[Counter[str]] = field(default_factory=lambda: [Counter() for _ in range(EMPLOYEES)])
    received: list[Counter[str]] = field(
        default_factory=lambda: [Counter() for _ in range(EMPLOYEES)]
    )
    spent: int = 0

    def allows(self, op: Operation) -> bool:
        if isinstance(op, Buy):
            return op.item in PRICES and self.balances[op.buyer] >= PRICES[op.item]
        amount = op.amount
        return (
            type(amount) is int
            and 1 <= amount <= MAX_AMOUNT
            and op.receiver != NOBODY
            and op.receiver != op.sender
            and self.balances[op.sender] >= amount
        )

    def apply(self, op: Operation) -> None:
        if isinstance(op, Buy):
            price = PRICES[op.item]
            self.balances[op.buyer] -= price
            self.spent += price
            self.inventory[op.buyer][op.item] += 1
            return
        assert isinstance(op.amount, int)
        self.balances[op.sender] -= op.amount
        self.balances[op.receiver] += op.amount
        self.sent[op.sender][name(op.receiver)] += op.amount
        self.received[op.receiver][name(op.sender)] += op.amount


async def perform(client: ShopClient, tokens: Sequence[str], op: Operation) -> int:
    if isinstance(op, Buy):
        response = await client.http.get(f"/api/buy/{op.item}", headers=bearer(tokens[op.buyer]))
    else:
        response = await client.http.post(
            "/api/sendCoin",
            json={"toUser": name(op.receiver), "amount": op.amount},
            headers=bearer(tokens[op.sender]),
        )
    await response.read()
    assert response.status in {200, 400}, await response.text()
    return response.status


async def assert_books_match(client: ShopClient, conn: asyncpg.Connection, model: Model) -> None:
    for index, token in enumerate(await login_all(client)):
        info = await client.info(token)
        assert info is not None
        assert info.coins == model.balances[index]
        assert {i.type: i.quantity for i in info.inventory} == dict(model.inventory[index])
        assert {e.to_user: e.amount for e in info.coin_history.sent} == dict(model.sent[index])
        assert {e.from_user: e.amount for e in info.coin_history.received} == dict(
            model.received[index]
        )
    held = await conn.fetchval("SELECT sum(balance) FROM users")
    spent = await conn.fetchval("SELECT coalesce(sum(price), 0) FROM purchases")
    assert held + spent == STARTING_BALANCE * EMPLOYEES
    assert spent == model.spent
    assert await conn.fetchval("SELECT count(*) FROM users WHERE balance < 0") == 0
    report = await run_audit(conn)
    assert report.ok, report.render()


async def login_all(client: ShopClient) -> list[str]:
    return [await client.auth(name(i), f"password-{i}") for i in range(EMPLOYEES)]


async def scenario(
    app_settings: Settings,
    database_url: str,
    ops: Sequence[Operation],
    *,
    concurrently: bool = False,
) -> None:
    conn = await asyncpg.connect(database_url)  # the app's URL may be a pooler's
    try:
        await conn.execute(EMPTY_TABLES)
        async with TestClient(TestServer(create_app(app_settings))) as http:
            client = ShopClient(http)
            tokens = await login_all(client)
            model = Model()
            if concurrently:
                statuses = await asyncio.gather(*(perform(client, tokens, op) for op in ops))
                # Order is up to the server, so only the outcome of each request is known:
                # exactly the accepted ones must have moved coins, each exactly once.
                for op, status in zip(ops, statuses, strict=True):
                    if status == 200:
                        model.apply(op)
            else:
                for op in ops:
                    expected = 200 if model.allows(op) else 400
                    assert await perform(client, tokens, op) == expected, op
                    if expected == 200:
                        model.apply(op)
            await assert_books_match(client, conn, model)
    finally:
        await conn.close()


@settings(
    max_examples=30,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(ops=st.lists(operations, max_size=25))
def test_any_sequence_of_operations_follows_the_rules_and_keeps_the_books(
    app_settings: Settings, database_url: str, ops: list[Operation]
) -> None:
    asyncio.run(scenario(app_settings, database_url, ops))


@settings(
    max_examples=15,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(ops=st.lists(operations, min_size=5, max_size=25))
def test_concurrent_operations_apply_each_accepted_one_exactly_once(
    app_settings: Settings, database_url: str, ops: list[Operation]
) -> None:
    asyncio.run(scenario(app_settings, database_url, ops, concurrently=True))
