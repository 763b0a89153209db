"""Notion property encoding: text split into 2,000-unit items and joined back, and UTC dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from campaigns.errors import NotionValidationError
from campaigns.notion_properties import (
    ARRAY_LIMIT,
    MAX_TEXT,
    TEXT_ITEM_LIMIT,
    date,
    read_date,
    read_text,
    rich_text,
    split_text,
    title,
    utf16_len,
)

EMOJI = "\U0001f384"  # 🎄, outside the BMP: two UTF-16 code units


def test_limits_match_notion() -> None:
    """One rich-text item holds 2,000 UTF-16 units and one array 100 items."""
    assert (TEXT_ITEM_LIMIT, ARRAY_LIMIT, MAX_TEXT) == (2000, 100, 200_000)


@pytest.mark.parametrize(
    ("text", "units"),
    [
        pytest.param("", 0, id="empty"),
        pytest.param("abc", 3, id="ascii"),
        pytest.param("é€", 2, id="bmp"),
        pytest.param(EMOJI, 2, id="emoji"),
        pytest.param("a" + EMOJI + "b", 4, id="mixed"),
    ],
)
def test_utf16_len(text: str, units: int) -> None:
    """utf16_len counts UTF-16 code units, as Notion does: two for a character outside the BMP."""
    assert utf16_len(text) == units


SPLIT_CASES = [
    # (text, expected chunk sizes in UTF-16 units)
    pytest.param("", [], id="empty"),
    pytest.param("x", [1], id="one-char"),
    pytest.param("x" * 1999, [1999], id="1999"),
    pytest.param("x" * 2000, [2000], id="2000-exactly-one-item"),
    pytest.param("x" * 2001, [2000, 1], id="2001-two-items"),
    pytest.param("x" * 4000, [2000, 2000], id="4000"),
    pytest.param("x" * 5000, [2000, 2000, 1000], id="5000"),
    pytest.param(EMOJI * 1000, [2000], id="1000-emoji-fill-one-item"),
    pytest.param(EMOJI * 1001, [2000, 2], id="1001-emoji"),
    pytest.param(EMOJI * 2500, [2000, 2000, 1000], id="2500-emoji"),
    pytest.param("a" + EMOJI * 1000, [1999, 2], id="emoji-never-split-at-boundary"),
    pytest.param("a" * 1999 + EMOJI + "b", [1999, 3], id="emoji-straddling-limit"),
    pytest.param(("é" + EMOJI + "a") * 700, [2000, 800], id="mixed-widths"),
    pytest.param(("é" + EMOJI) * 700, [1999, 101], id="odd-width-pattern"),
]


@pytest.mark.parametrize(("text", "sizes"), SPLIT_CASES)
def test_split_text(text: str, sizes: list[int]) -> None:
    """Text splits into items of at most 2,000 UTF-16 units that join back to the input."""
    chunks = split_text(text)
    assert [utf16_len(chunk) for chunk in chunks] == sizes
    assert "".join(chunks) == text
    assert all(0 < utf16_len(chunk) <= TEXT_ITEM_LIMIT for chunk in chunks)


@pytest.mark.parametrize(("text", "sizes"), SPLIT_CASES)
def test_split_never_cuts_a_character(text: str, sizes: list[int]) -> None:
    """Every chunk encodes to valid UTF-16 on its own: no surrogate pair is cut in half."""
    for chunk in split_text(text):
        encoded = chunk.encode("utf-16-le")
        assert encoded.decode("utf-16-le") == chunk
        assert not any(0xD800 <= ord(char) <= 0xDFFF for char in chunk)


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        pytest.param("abcdef", 4, ["abcd", "ef"], id="limit-4"),
        pytest.param("ab" + EMOJI + "c", 3, ["ab", EMOJI + "c"], id="emoji-moves-to-next"),
        pytest.param(EMOJI * 2, 2, [EMOJI, EMOJI], id="one-emoji-per-item"),
    ],
)
def test_split_text_with_a_custom_limit(text: str, limit: int, expected: list[str]) -> None:
    """A smaller limit is honoured with the same never-split-a-character rule."""
    assert split_text(text, limit) == expected


@pytest.mark.parametrize(
    ("text", "items"),
    [
        pytest.param("", 0, id="empty"),
        pytest.param("hello", 1, id="short"),
        pytest.param("x" * 5000, 3, id="5000"),
        pytest.param("x" * MAX_TEXT, 100, id="exactly-the-maximum"),
        pytest.param(EMOJI * (MAX_TEXT // 2), 100, id="emoji-maximum"),
    ],
)
def test_rich_text_items(text: str, items: int) -> None:
    """rich_text writes one text item per chunk, which read_text joins back exactly."""
    prop = rich_text(text)
    assert len(prop["rich_text"]) == items
    assert all(item["type"] == "text" for item in prop["rich_text"])
    response = {"Body": {"type": "rich_text", **prop}}
    assert read_text(response, "Body") == text


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("x" * (MAX_TEXT + 1), id="one-unit-over"),
        pytest.param(EMOJI * (MAX_TEXT // 2) + "x", id="emoji-one-unit-over"),
        pytest.param("x" * 250_000, id="250k"),
    ],
)
def test_text_over_200000_units_raises(text: str) -> None:
    """Text longer than 100 items of 2,000 units raises NotionValidationError naming the field."""
    with pytest.raises(NotionValidationError, match="Body HTML"):
        rich_text(text, field="Body HTML")
    with pytest.raises(NotionValidationError):
        title(text)


@pytest.mark.parametrize(
    ("prop", "expected"),
    [
        pytest.param(None, "", id="absent"),
        pytest.param({"type": "rich_text", "rich_text": []}, "", id="empty-array"),
        pytest.param(
            {"type": "rich_text", "rich_text": [{"plain_text": "Hello"}]}, "Hello", id="one-item"
        ),
        pytest.param(
            {
                "type": "rich_text",
                "rich_text": [
                    {"plain_text": "Hello, "},
                    {"plain_text": "wide "},
                    {"plain_text": "world"},
                ],
            },
            "Hello, wide world",
            id="three-items",
        ),
        pytest.param(
            {"type": "title", "title": [{"plain_text": "Ma"}, {"plain_text": "ria"}]},
            "Maria",
            id="title",
        ),
        pytest.param(
            {"type": "rich_text", "rich_text": [{"text": {"content": "a"}}, {"plain_text": "b"}]},
            "ab",
            id="text-content-fallback",
        ),
        pytest.param(
            {"type": "rich_text", "rich_text": [{"plain_text": "x" * 2000}, {"plain_text": "y"}]},
            "x" * 2000 + "y",
            id="two-full-items",
        ),
    ],
)
def test_read_text_joins_every_item(prop: dict[str, object] | None, expected: str) -> None:
    """read_text concatenates every item of a title or rich_text property, in order."""
    props = {} if prop is None else {"Field": prop}
    assert read_text(props, "Field") == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(
            datetime(2024, 12, 1, 9, 30, tzinfo=UTC), "2024-12-01T09:30:00.000Z", id="utc"
        ),
        pytest.param(
            datetime(2024, 12, 1, 4, 30, tzinfo=timezone(timedelta(hours=-5))),
            "2024-12-01T09:30:00.000Z",
            id="new-york",
        ),
        pytest.param(
            datetime(2024, 12, 2, 0, 30, tzinfo=timezone(timedelta(hours=15))),
            "2024-12-01T09:30:00.000Z",
            id="next-day-local",
        ),
        pytest.param(
            datetime(2024, 12, 1, 9, 30, 15, 123456, tzinfo=UTC),
            "2024-12-01T09:30:15.123Z",
            id="milliseconds",
        ),
    ],
)
def test_date_writes_utc_with_z(value: datetime, expected: str) -> None:
    """date() writes the instant in UTC, to the millisecond, with a `Z` suffix."""
    written = date(value)
    assert written == {"date": {"start": expected}}
    assert read_date({"When": written}, "When") == value.replace(
        microsecond=value.microsecond // 1000 * 1000
    )


def test_date_of_none_clears_the_property() -> None:
    """date(None) writes an empty date."""
    assert date(None) == {"date": None}


def test_date_refuses_naive_datetime() -> None:
    """A naive datetime is refused rather than written as if it were UTC."""
    with pytest.raises(ValueError, match="timezone-aware"):
        date(datetime(2024, 12, 1, 9, 30))
