"""The browser files shipped inside the package (shop/web), read once and looked up by name.

Only files present there with a known type can be served, by exact name, so no request path
can reach any other file.
"""

from __future__ import annotations

import functools
from importlib import resources
from importlib.resources.abc import Traversable

CONTENT_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
}


def web_dir() -> Traversable:
    return resources.files("shop").joinpath("web")


@functools.cache
def assets() -> dict[str, tuple[bytes, str]]:
    """Every servable file of shop/web by name, with its content type; read once."""
    found: dict[str, tuple[bytes, str]] = {}
    for entry in web_dir().iterdir():
        content_type = CONTENT_TYPES.get("." + entry.name.rpartition(".")[2])
        if entry.is_file() and content_type is not None:
            found[entry.name] = (entry.read_bytes(), content_type)
    return found


@functools.cache
def page(name: str) -> bytes:
    """An HTML page of shop/web (the app's, the docs'), read once."""
    return web_dir().joinpath(name).read_bytes()
