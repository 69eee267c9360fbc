from __future__ import annotations

import ipaddress
from unittest import mock

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from shop.http.client_address import client_address

PROXY = [ipaddress.ip_network("10.0.0.0/24")]


def request(peer: str, forwarded: str | None = None) -> web.Request:
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    transport = mock.Mock()
    transport.get_extra_info.side_effect = lambda name, default=None: (
        (peer, 1234) if name == "peername" else default
    )
    return make_mocked_request("POST", "/api/auth", headers=headers, transport=transport)


def test_without_trusted_proxies_the_header_is_ignored() -> None:
    assert client_address(request("203.0.113.5", "1.2.3.4"), []) == "203.0.113.5"


def test_a_peer_that_is_not_a_trusted_proxy_cannot_choose_its_address() -> None:
    assert client_address(request("203.0.113.5", "1.2.3.4"), PROXY) == "203.0.113.5"


@pytest.mark.parametrize(
    ("forwarded", "client"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("6.6.6.6, 198.51.100.7", "198.51.100.7"),  # the left part is the client's own claim
        ("198.51.100.7, 10.0.0.9", "198.51.100.7"),  # a second trusted hop is skipped
        ("10.0.0.9", "10.0.0.9"),  # only trusted hops: the one the first proxy saw
        ("10.0.0.8, 10.0.0.9", "10.0.0.8"),
        ("garbage, 198.51.100.7", "198.51.100.7"),
        ("198.51.100.7, garbage", "10.0.0.1"),  # a garbled chain: trust nothing in it
        ("", "10.0.0.1"),
    ],
)
def test_behind_a_trusted_proxy_the_rightmost_untrusted_hop_is_the_client(
    forwarded: str, client: str
) -> None:
    assert client_address(request("10.0.0.1", forwarded), PROXY) == client
