from __future__ import annotations

import pytest

from inference_nb.wire.statuses import RENUMBERED_2026, SPEC, Dialect, Phase, SpecStatus


def test_spec_numbering_is_the_documents_1_to_11_in_order():
    assert [(s.code, s.name) for s in SPEC.statuses] == [
        (1, "Received"),
        (2, "Queued"),
        (3, "Scheduled"),
        (4, "Preparing"),
        (5, "Serving"),
        (6, "Setting Up"),
        (7, "Running"),
        (8, "Uploading"),
        (9, "Completed"),
        (10, "Failed"),
        (11, "Cancelled"),
    ]
    assert [s.info.code for s in SpecStatus] == list(range(1, 12))


def test_the_same_code_means_different_things_in_the_two_numberings():
    assert SPEC.by_code(9).phase is Phase.SUCCEEDED
    assert RENUMBERED_2026.by_code(9).name == "Uploading"
    assert RENUMBERED_2026.by_code(9).phase is Phase.RUNNING
    assert SPEC.code("Completed") == 9 and RENUMBERED_2026.code("Completed") == 10


@pytest.mark.parametrize("name", ["completed", "COMPLETED", "Completed"])
def test_names_are_matched_without_case(name):
    assert SPEC.by_name(name).code == 9


def test_setting_up_matches_any_separator():
    assert SPEC.by_name("setting_up").code == SPEC.by_name("setting-up").code == 6


def test_only_completed_failed_and_cancelled_are_terminal_and_rejected_in_2026():
    assert {s.name for s in SPEC.statuses if s.terminal} == {"Completed", "Failed", "Cancelled"}
    assert {s.name for s in RENUMBERED_2026.statuses if s.terminal} == {"Completed", "Failed", "Cancelled", "Rejected"}
    assert RENUMBERED_2026.by_code(13).phase is Phase.FAILED


@pytest.mark.parametrize(
    ("hosted", "spec"),
    [(0, 1), (3, 3), (8, 7), (9, 8), (10, 9), (11, 10), (12, 11), (13, 10)],
)
def test_a_dialect_translates_by_name(hosted, spec):
    assert Dialect.SPEC.code(hosted, RENUMBERED_2026) == spec
    if hosted not in (0, 8, 13):  # the spec has no Unknown, Cancelling or Rejected: those go one way
        assert Dialect.HOSTED.code(spec, SPEC) == hosted
    assert Dialect.HOSTED.numbering is RENUMBERED_2026 and Dialect.SPEC.numbering is SPEC


def test_unknown_codes_and_names_say_which_numbering():
    with pytest.raises(KeyError, match="spec"):
        SPEC.by_code(12)
    with pytest.raises(KeyError, match="renumbered"):
        RENUMBERED_2026.by_name("Scheduled")
