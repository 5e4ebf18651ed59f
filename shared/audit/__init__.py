"""The audit layer: hash chains over the event logs, signed checkpoints, verification, the
access log of personal-data reads, and the offline export bundle (docs/audit.md).

The write services reach it at two boundaries: their event store (a chained recorder, chosen
through the persistence environment) and their web base (the access log's request hook and the
``/<service>/audit`` routes).
"""
