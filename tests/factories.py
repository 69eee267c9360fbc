"""Test data builders. They only build; persisting goes through the API."""

from __future__ import annotations

import factory

from shop.models import AuthRequest, SendCoinRequest


class CredentialsFactory(factory.Factory):
    class Meta:
        model = AuthRequest

    username = factory.Sequence(lambda n: f"employee{n}")
    password = factory.Sequence(lambda n: f"secret-{n}")


class TransferFactory(factory.Factory):
    class Meta:
        model = SendCoinRequest

    toUser = factory.Sequence(lambda n: f"employee{n}")  # noqa: N815 - the contract's name
    amount = 1
