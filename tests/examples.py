"""How many examples a property test runs, scaled to the Hypothesis profile in force.

The profiles are registered in tests/conftest.py: few examples by default (the
unit tests stay under 10 s), many under ``--hypothesis-profile=ci``.
"""

from __future__ import annotations

from hypothesis import settings

DEV_EXAMPLES = 10
CI_EXAMPLES = 200


def scaled(ci_examples: int) -> int:
    """``ci_examples`` under the ci profile; the same share of the default profile's count else."""
    current = settings.default.max_examples
    return max(current, ci_examples * current // CI_EXAMPLES)
