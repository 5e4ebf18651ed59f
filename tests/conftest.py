"""Root pytest configuration: the real-infrastructure fixtures, and hypothesis without clocks."""

from hypothesis import HealthCheck, settings

pytest_plugins = ["tests.support.services", "tests.support.identity"]

# Hypothesis' per-example deadline is a wall-clock assertion, which these shared, noisy
# machines would turn into flaky failures; examples are bounded by count instead.
settings.register_profile(
    "polku", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("polku")
