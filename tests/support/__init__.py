"""Real-infrastructure helpers for the test suite: local Kafka and PostgreSQL processes."""
