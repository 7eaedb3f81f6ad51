from __future__ import annotations

import pytest

from inference_nb.wire.statuses import RENUMBERED_2026, SPEC, Phase, SpecStatus


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


def test_only_completed_failed_and_cancelled_are_terminal():
    for numbering in (SPEC, RENUMBERED_2026):
        terminal = {s.name for s in numbering.statuses if s.terminal}
        assert terminal == {"Completed", "Failed", "Cancelled"}


def test_unknown_codes_and_names_say_which_numbering():
    with pytest.raises(KeyError, match="spec"):
        SPEC.by_code(12)
    with pytest.raises(KeyError, match="renumbered"):
        RENUMBERED_2026.by_name("Scheduled")
