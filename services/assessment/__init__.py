"""The assessment service: instruments, results and surveys (its domain lands with issue #4).

Today it runs as an event-sourced application with an empty log, its event feed, OpenAPI and
health endpoints, so that deployment, relays and the projector already treat it as a source.
"""
