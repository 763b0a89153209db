"""docs/contract.md §1: CRITICAL at 2+ red; URGENT at 1 red or 2+ orange; else OPTIMIZE."""

from __future__ import annotations

import pytest

from campaigns.christmas_campaign.sequence import classify_segment
from campaigns.models import SYSTEM_COUNT, Segment

BOUNDARIES = [
    # (red, orange, expected)
    pytest.param(0, 0, Segment.OPTIMIZE, id="0red-0orange"),
    pytest.param(0, 1, Segment.OPTIMIZE, id="0red-1orange"),
    pytest.param(0, 2, Segment.URGENT, id="0red-2orange"),
    pytest.param(0, 3, Segment.URGENT, id="0red-3orange"),
    pytest.param(0, 8, Segment.URGENT, id="0red-8orange"),
    pytest.param(1, 0, Segment.URGENT, id="1red-0orange"),
    pytest.param(1, 1, Segment.URGENT, id="1red-1orange"),
    pytest.param(1, 2, Segment.URGENT, id="1red-2orange"),
    pytest.param(1, 7, Segment.URGENT, id="1red-7orange"),
    pytest.param(2, 0, Segment.CRITICAL, id="2red-0orange"),
    pytest.param(2, 1, Segment.CRITICAL, id="2red-1orange"),
    pytest.param(2, 2, Segment.CRITICAL, id="2red-2orange"),
    pytest.param(2, 6, Segment.CRITICAL, id="2red-6orange"),
    pytest.param(3, 0, Segment.CRITICAL, id="3red-0orange"),
    pytest.param(8, 0, Segment.CRITICAL, id="8red-0orange"),
]


@pytest.mark.parametrize(("red", "orange", "expected"), BOUNDARIES)
def test_segment_boundaries(red: int, orange: int, expected: Segment) -> None:
    """Each red/orange boundary of the rule lands in the segment the contract names."""
    assert classify_segment(red, orange) is expected


def _contract_rule(red: int, orange: int) -> Segment:
    """The contract's rule, written independently of the code under test."""
    critical = red >= 2
    urgent = red == 1 or orange >= 2
    if critical:
        return Segment.CRITICAL
    if urgent:
        return Segment.URGENT
    return Segment.OPTIMIZE


def _all_colour_splits() -> list[tuple[int, int, int, int]]:
    return [
        (red, orange, yellow, SYSTEM_COUNT - red - orange - yellow)
        for red in range(SYSTEM_COUNT + 1)
        for orange in range(SYSTEM_COUNT + 1 - red)
        for yellow in range(SYSTEM_COUNT + 1 - red - orange)
    ]


def test_every_colour_split_is_enumerated() -> None:
    """There are C(11, 3) = 165 ways to split eight systems into four colours."""
    splits = _all_colour_splits()
    assert len(splits) == 165
    assert len(set(splits)) == 165
    assert all(sum(split) == SYSTEM_COUNT and min(split) >= 0 for split in splits)


@pytest.mark.parametrize(
    ("red", "orange", "yellow", "green"),
    _all_colour_splits(),
    ids=lambda value: str(value),
)
def test_every_colour_split_matches_the_contract(
    red: int, orange: int, yellow: int, green: int
) -> None:
    """Every (red, orange, yellow, green) split of eight systems gets the contract's segment."""
    assert classify_segment(red, orange) is _contract_rule(red, orange)


@pytest.mark.parametrize("segment", list(Segment), ids=str)
def test_every_segment_is_reachable(segment: Segment) -> None:
    """Each of the three segments is produced by at least one valid colour split."""
    assert any(classify_segment(r, o) is segment for r, o, _, _ in _all_colour_splits())
