"""How long one exec of the pod's lookup script may take (``--via exec``)."""

from __future__ import annotations

from hsvc.commands.execvantage import EXEC_TIMEOUT_FLOOR, exec_limit


def test_a_layer_that_never_answers_fits_in_the_exec() -> None:
    # 16 questions, the pod's resolver and 4 layers, 1 s per attempt: a dead replica
    # costs 16 s of dig waits, and every other query still needs its share.
    limit = exec_limit(1.0, questions=16, layers=4, candidates=0)
    assert limit >= 16 * 1 + 16 * 4 * 0.05
    assert limit > EXEC_TIMEOUT_FLOOR


def test_the_wait_is_whole_seconds_as_dig_takes_it() -> None:
    # dig +time is whole seconds (0.2 s asks as 1 s): a silent layer waits 1 s a question.
    assert exec_limit(0.2, questions=400, layers=1, candidates=0) >= 400 * 1


def test_without_layers_the_limit_is_the_floor_or_the_queries_share() -> None:
    assert exec_limit(1.0, questions=16, layers=0, candidates=8) == EXEC_TIMEOUT_FLOOR
    many = exec_limit(2.0, questions=1000, layers=0, candidates=0)
    assert many == 2.0 * 2 + 1000 * 0.05
