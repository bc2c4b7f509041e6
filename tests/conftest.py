"""Test configuration shared by every test module.

Property and fuzz tests (hypothesis) explore new random examples on every
local run, which is how they find bugs (the SQUAREM budget bug of
``test_squarem_retry_on_the_last_e_step_does_not_end_below_a_shorter_run``
was found that way). CI (``CI`` set, as ``.ci/run`` is run) is a gate, not a
search: there hypothesis is derandomized, so a run tests the same examples
every time and its outcome does not depend on the luck of the draw. Long
exploratory runs: ``LCA_PROPERTY_EXAMPLES`` and ``LCA_FUZZ_EXAMPLES``.
"""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")
