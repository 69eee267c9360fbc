"""One name, one look: what a new username may contain, and when two names look alike.

A name is compared in NFC, so the composed and decomposed spellings of one name are one
name. A new name may not carry characters nobody can see or that reorder the text around
them, nor start or end with white space. Two names whose confusable skeletons (Unicode
TR39, after case folding) are equal look alike, so the second one is refused: `alice`,
`Alice`, `alice` with a Cyrillic `a` (U+0430) and with a fullwidth one (U+FF41) are one.

The skeleton comes from `disarm` (a maintained library carrying the Unicode 17 confusables
table); the two packages usually named for this, `confusable-homoglyphs` and `confusables`,
offer per-character script checks and sets of ASCII look-alikes but no skeleton. Skeletons
are stored (users.username_skeleton), so a new release of the table may move some of them:
`shop migrate` recomputes every stored skeleton, and the version is pinned in pyproject.
"""

from __future__ import annotations

import unicodedata

import disarm

SKELETON_VERSION = f"disarm {disarm.__version__}, Unicode {disarm.CONFUSABLES_VERSION}"
"""What the stored skeletons were computed with."""

REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cn", "Cs"})
"""Control, format (zero-width, bidirectional), line and paragraph separators, private
use, unassigned and surrogate code points: invisible, or different on every system."""

_CATEGORY_NAMES = {
    "Cc": "control",
    "Cf": "invisible or bidirectional formatting",
    "Zl": "line separator",
    "Zp": "paragraph separator",
    "Co": "private-use",
    "Cn": "unassigned",
    "Cs": "surrogate",
}


class UsernameError(ValueError):
    """A name that may not be registered; the message says why, for the client."""


def nfc(name: str) -> str:
    """The name as it is compared and stored."""
    return unicodedata.normalize("NFC", name)


def check_new(name: str) -> str:
    """Return the NFC form of a name that may be registered, or raise UsernameError.

    Only new names are held to this: an employee registered before these rules keeps
    logging in with the name they have.
    """
    name = nfc(name)
    if not name.strip():
        raise UsernameError("username must not be blank")
    if name != name.strip():
        raise UsernameError("username must not start or end with white space")
    for ch in name:
        category = unicodedata.category(ch)
        if category in REFUSED_CATEGORIES:
            raise UsernameError(
                f"username must not contain {_CATEGORY_NAMES[category]} characters"
                f" (U+{ord(ch):04X})"
            )
    return name


def skeleton(name: str) -> str:
    """The TR39 confusable skeleton of a name, case-insensitive: equal skeletons look alike.

    Case is folded before the confusables fold, so `ALICE` (whose capital I alone would
    read as `l`) and `alice` share a skeleton; TR39's digit classes (`1`~`l`, `0`~`O`) are
    kept, as they should be for identifiers.
    """
    key = disarm.skeleton_key(nfc(name).casefold(), digit_policy="tr39")
    return key or name  # a name made only of characters the fold drops is its own key
