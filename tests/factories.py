"""Test data builders. They only build; persisting goes through the API."""

from __future__ import annotations

import factory

from shop.models import AuthRequest


class CredentialsFactory(factory.Factory):
    class Meta:
        model = AuthRequest

    username = factory.Sequence(lambda n: f"employee{n}")
    password = factory.Sequence(lambda n: f"secret-{n}")
