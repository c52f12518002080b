import pytest
from hypothesis import given
from hypothesis import strategies as st

from alpr_lib.plates import (
    DEFAULT_EQUIVALENCE_CLASSES,
    PLATE_FORMATS,
    STATE_WORDS,
    EquivalenceClasses,
    equivalence_key,
    guess_states,
    is_valid_plate,
    normalize,
    state_named,
)

plate_text = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=2, max_size=8)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(" abc-123 ", "ABC123"), ("7.abc 123", "7ABC123"), ("ab_c·12", "ABC12"), ("", "")],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    ("plate", "valid"),
    [("ABC123", True), ("A1", True), ("A", False), ("ABCDEFGHI", False), ("N/A", False), ("ÄBC123", False)],
)
def test_is_valid_plate(plate: str, valid: bool) -> None:
    assert is_valid_plate(plate) is valid


@pytest.mark.parametrize(("a", "b"), [("B0L7", "8OI7"), ("5GZ", "S62"), ("D0Q", "OOO"), ("ABC123", "A8C1Z3")])
def test_confusable_plates_share_a_key(a: str, b: str) -> None:
    assert equivalence_key(a) == equivalence_key(b)


def test_distinct_plates_keep_distinct_keys() -> None:
    assert equivalence_key("ABC123") != equivalence_key("ABC124")


@given(plate_text)
def test_normalize_is_idempotent_and_keys_are_stable(plate: str) -> None:
    assert normalize(normalize(plate)) == normalize(plate)
    key = equivalence_key(plate)
    assert equivalence_key(key) == key
    assert len(key) == len(plate)


@given(plate_text, st.data())
def test_any_confusable_swap_keeps_the_key(plate: str, data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(plate) - 1))
    group = next((g for g in DEFAULT_EQUIVALENCE_CLASSES.groups if plate[i] in g), plate[i])
    swapped = plate[:i] + data.draw(st.sampled_from(group)) + plate[i + 1 :]
    assert equivalence_key(swapped) == equivalence_key(plate)


def test_classes_are_configurable_and_checked() -> None:
    classes = EquivalenceClasses(("0O",))
    assert classes.key("O8B") == "08B"
    with pytest.raises(ValueError):
        EquivalenceClasses(("0O", "O8"))


@pytest.mark.parametrize(
    ("plate", "state"),
    [("123ABC", "OR"), ("ABC1234", "WA"), ("7ABC123", "CA"), ("1A23456", "ID"), ("123A45", "NV")],
)
def test_guess_states(plate: str, state: str) -> None:
    assert state in guess_states(plate)


def test_every_template_matches_its_own_format() -> None:
    for fmt in PLATE_FORMATS:
        sample = "".join("5" if ch == "9" else "K" for ch in fmt.template)
        assert fmt.matches(sample), fmt.name


@pytest.mark.parametrize(
    ("text", "state"),
    [
        ("OREGON", "OR"),
        ("Nov California", "CA"),  # a sticker's month read into the same line
        ("1.COLORAD0", "CO"),  # a digit in a letter's place
        ("Califomia", "CA"),  # rn read as m
        ("NORTHDAKOTA", "ND"),  # the space lost
        ("West Virginia", "WV"),  # not Virginia
        ("ARKANSAS", "AR"),  # not Kansas
        ("SN'KANSAS", "KS"),
        ("WASHINGTON", "WA"),  # not Washington DC short of two letters
        ("Washington, D.C.", "DC"),
        ("PEACE GARDEN STATE", "ND"),  # not New Jersey's Garden State
        ("Garden State", "NJ"),
        ("-Ocean State", "RI"),
        ("Famous Potatoes", "ID"),
    ],
)
def test_the_state_a_plates_lettering_names(text: str, state: str) -> None:
    named = state_named(text)
    assert named is not None and named[0] == state


@pytest.mark.parametrize(
    "text", ["", "MONTH", "JAN", "We Support Our Troops", "U.S. MARINE CORPS", "MAIN ST", "TAXES"]
)
def test_lettering_that_names_no_state(text: str) -> None:
    assert state_named(text) is None


def test_every_state_word_names_its_own_state() -> None:
    assert len(STATE_WORDS) == 51  # the fifty states and the District of Columbia
    for state, words in STATE_WORDS.items():
        for word in words:
            assert state_named(word) == (state, len(word.replace(" ", ""))), word
            assert state_named(f"JAN {word.lower()} 2026") == (state, len(word.replace(" ", ""))), word
