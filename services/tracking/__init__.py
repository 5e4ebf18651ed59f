"""The tracking service: read-only views projected from the write services' events."""
