"""Root pytest configuration: registers the real-infrastructure fixtures (Kafka, PostgreSQL)."""

pytest_plugins = ["tests.support.services"]
