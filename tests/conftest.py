"""Root pytest configuration: the real-infrastructure fixtures, and hypothesis without clocks."""

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from shared import heap

pytest_plugins = ["tests.support.services", "tests.support.identity"]

# Hypothesis' per-example deadline is a wall-clock assertion, which these shared, noisy
# machines would turn into flaky failures; examples are bounded by count instead.
settings.register_profile(
    "polku", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("polku")


@pytest.fixture(autouse=True)
def collectable_heap() -> Iterator[None]:
    """A test that runs an entry point in-process (``polku up``) settles the heap, as a server
    does; the test process goes on building and closing runtimes, whose cycles must stay
    collectable, and later tests of the collector expect nothing frozen."""
    yield
    if heap.settled():
        heap.unsettle()
