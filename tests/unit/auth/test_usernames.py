from __future__ import annotations

import re
import unicodedata

import pytest

from shop.auth.usernames import UsernameError, check_new, nfc, skeleton


@pytest.mark.parametrize(
    "spelling",
    ["Alice", "ALICE", "\u0430lice", "\uff41lice", "\U0001d41alice", "a\u217cice", "alice\u200d"],
)
def test_lookalikes_of_a_name_share_its_skeleton(spelling: str) -> None:
    assert skeleton(spelling) == skeleton("alice")


@pytest.mark.parametrize(("one", "other"), [("alice", "alicia"), ("bob", "rob"), ("ann", "anna")])
def test_different_names_have_different_skeletons(one: str, other: str) -> None:
    assert skeleton(one) != skeleton(other)


def test_composed_and_decomposed_spellings_are_one_name() -> None:
    composed = "Jos\u00e9"
    decomposed = unicodedata.normalize("NFD", composed)
    assert check_new(decomposed) == composed == nfc(decomposed)
    assert skeleton(decomposed) == skeleton(composed)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "blank"),
        ("  ", "blank"),
        ("\u2003", "blank"),
        ("alice ", "white space"),
        ("\talice", "white space"),
        ("a\tlice", "control characters"),
        ("ali\u200bce", "invisible or bidirectional formatting characters (U+200B)"),
        ("\u2066alice", "U+2066"),
        ("ali\u2029ce", "paragraph separator"),
        ("ali\U000f0000ce", "private-use"),
        ("ali\U0003ffffce", "unassigned"),
    ],
)
def test_a_new_name_with_blank_or_invisible_parts_is_refused(name: str, reason: str) -> None:
    with pytest.raises(UsernameError, match=re.escape(reason)):
        check_new(name)


@pytest.mark.parametrize("name", ["alice", "Jos\u00e9", "\u5f20\u4f1f", "o'brien", "x-1_y.z"])
def test_ordinary_names_are_accepted_unchanged(name: str) -> None:
    assert check_new(name) == name


def test_a_name_made_only_of_characters_the_fold_drops_is_its_own_key() -> None:
    assert skeleton("\u0301") == "\u0301"
