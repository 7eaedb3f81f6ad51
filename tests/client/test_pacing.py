"""The pacer, I/O-free: unpaced until a 429, then a rate that 429s lower and answers raise."""

from __future__ import annotations

import pytest

from inference_nb.client.pacing import DECREASE, FORGET, GROWTH, MIN_ANSWERS, MIN_RATE, Pacer


def answered_at(pacer: Pacer, times: list[float]) -> None:
    for now in times:
        pacer.answered(now)


def test_nothing_is_held_back_until_the_first_429():
    pacer = Pacer()
    answered_at(pacer, [i / 100 for i in range(100)])
    assert pacer.rate is None and all(pacer.delay(1.0) == 0 for _ in range(50))


def test_a_429_paces_to_a_little_under_what_the_server_let_through_in_the_last_second():
    pacer = Pacer()
    answered_at(pacer, [i / 40 for i in range(80)])  # 40 a second for two seconds
    pacer.refused(2.0)
    assert pacer.rate == pytest.approx(DECREASE * 40, rel=0.05)
    delays = [pacer.delay(2.0) for _ in range(4)]
    assert delays == pytest.approx([i / pacer.rate for i in range(4)])  # one slot after the other


def test_429s_of_requests_already_on_their_way_lower_the_rate_once():
    pacer = Pacer()
    answered_at(pacer, [i / 20 for i in range(20)])
    pacer.refused(1.0)
    rate = pacer.rate
    for now in (1.01, 1.02, 1.5):
        pacer.refused(now)
    assert pacer.rate == rate and pacer.refusals == 4


def test_the_next_decrease_takes_what_the_server_let_through_since_the_last_one():
    pacer = Pacer()
    answered_at(pacer, [i / 30 for i in range(30)])  # a burst: more than the limit in the first second
    pacer.refused(1.0)
    answered_at(pacer, [1.0 + i / 20 for i in range(1, 81)])  # then the limit, 20 a second, for 4 s
    pacer.refused(5.0)
    assert pacer.rate == pytest.approx(DECREASE * 20)


def test_answers_raise_the_rate_by_a_share_of_itself_a_second():
    pacer = Pacer()
    answered_at(pacer, [i / 10 for i in range(10)])
    pacer.refused(1.0)
    rate = pacer.rate
    assert rate is not None
    answered_at(pacer, [1.0 + i / rate for i in range(1, round(rate) + 1)])  # about a second of answers
    assert pacer.rate == pytest.approx(rate * (1 + GROWTH), rel=0.05)


def test_a_first_429_with_too_few_answers_to_measure_a_rate_paces_nothing():
    pacer = Pacer()
    answered_at(pacer, [0.1] * (MIN_ANSWERS - 1))
    pacer.refused(0.5)  # a pause (its Retry-After holds every request), not a measure of the limit
    assert pacer.rate is None and pacer.delay(0.6) == 0 and pacer.refusals == 1


def test_the_rate_has_a_floor_and_pacing_ends_a_while_after_the_last_429():
    pacer = Pacer()
    answered_at(pacer, [0.1] * MIN_ANSWERS)
    pacer.refused(0.5)
    pacer.refused(1.5)  # nothing answered since the last decrease: the floor
    assert pacer.rate == MIN_RATE
    pacer.answered(FORGET / 2)
    assert pacer.rate is not None
    pacer.answered(FORGET + 2)
    assert pacer.rate is None and pacer.delay(FORGET + 2) == 0
