"""The principals of the test broker and the ACLs the test support grants them, as admin.

Owns what each principal may do with one topic prefix's topics, as docker-compose's operator
would grant it: ``relay`` writes (and creates) every topic, ``tracking`` reads both assessment
topics and the enrolment topic in its own consumer groups, ``other`` reads the public topics
only, in its own groups. Nothing else is allowed (``allow.everyone.if.no.acl.found=false``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared import kafka
from shared.audit.checkpoints import checkpoint_topic
from shared.settings import WRITE_SERVICES

GRANT_TIMEOUT = 30.0


@dataclass(frozen=True)
class Principals:
    """Per-principal client settings for the session's broker; empty ones when it has no SASL."""

    bootstrap_servers: str
    configs: Mapping[str, Mapping[str, str]]

    @property
    def secured(self) -> bool:
        return bool(self.configs)

    def config(self, user: str = "admin") -> dict[str, Any]:
        """kafka-python keyword arguments, the brokers included."""
        return {"bootstrap_servers": self.bootstrap_servers, **self.security(user)}

    def security(self, user: str = "admin") -> dict[str, str]:
        return dict(self.configs.get(user, {}))

    def settings(self, user: str = "admin") -> dict[str, Any]:
        """``Settings`` fields for a process connecting as ``user``."""
        security = self.security(user)
        if not security:
            return {}
        return {
            "kafka_security_protocol": security["security_protocol"],
            "kafka_sasl_mechanism": security["sasl_mechanism"],
            "kafka_username": security["sasl_plain_username"],
            "kafka_password": security["sasl_plain_password"],
        }

    def env(self, user: str = "admin") -> dict[str, str]:
        """The ``POLKU_KAFKA_*`` variables of a process connecting as ``user``."""
        return {f"POLKU_{k.upper()}": str(v) for k, v in self.settings(user).items()}

    def grant(self, prefix: str, tracking_group: str, other_group: str) -> None:
        """Creates ``prefix``'s topics and the ACLs on them; waits until the broker has them."""
        kafka.ensure_topics(self.bootstrap_servers, WRITE_SERVICES, prefix, self.security())
        if not self.secured:
            return
        from kafka import KafkaAdminClient

        admin = KafkaAdminClient(**self.config("admin"), client_id="polku-test-acls")
        try:
            wanted = acls(prefix, tracking_group, other_group)
            result = admin.create_acls(wanted)
            assert not result["failed"], result["failed"]
            _wait_for(admin, wanted)
        finally:
            admin.close()


def acls(prefix: str, tracking_group: str, other_group: str) -> list[Any]:
    from kafka.admin import ACLOperation as Op
    from kafka.admin import ACLResourcePatternType as Pattern
    from kafka.admin import ResourceType as Kind

    public = [kafka.topic_of(s, prefix) for s in WRITE_SERVICES]
    every = kafka.topics_of(WRITE_SERVICES, prefix)
    checkpoints = checkpoint_topic(prefix)
    rules = [
        *(("relay", op, Kind.TOPIC, t, Pattern.LITERAL) for t in every for op in _RELAY_OPS),
        *(("tracking", op, Kind.TOPIC, t, Pattern.LITERAL) for t in every for op in _READ_OPS),
        ("tracking", Op.READ, Kind.GROUP, tracking_group, Pattern.PREFIXED),
        *(("other", op, Kind.TOPIC, t, Pattern.LITERAL) for t in public for op in _READ_OPS),
        ("other", Op.READ, Kind.GROUP, other_group, Pattern.PREFIXED),
        # The audit checkpoints: the write services (as relay) publish, anyone here reads.
        *(("relay", op, Kind.TOPIC, checkpoints, Pattern.LITERAL) for op in _RELAY_OPS),
        *(("tracking", op, Kind.TOPIC, checkpoints, Pattern.LITERAL) for op in _READ_OPS),
        *(("other", op, Kind.TOPIC, checkpoints, Pattern.LITERAL) for op in _READ_OPS),
    ]
    return [_allow(*rule) for rule in rules]


def _ops(*names: str) -> tuple[Any, ...]:
    from kafka.admin import ACLOperation

    return tuple(getattr(ACLOperation, name) for name in names)


_RELAY_OPS = _ops("WRITE", "CREATE", "DESCRIBE", "DESCRIBE_CONFIGS")
_READ_OPS = _ops("READ", "DESCRIBE", "DESCRIBE_CONFIGS")


def _allow(user: str, operation: Any, kind: Any, name: str, pattern: Any) -> Any:
    from kafka.admin import ACL, ACLPermissionType, ResourcePattern

    return ACL(
        principal=f"User:{user}",
        host="*",
        operation=operation,
        permission_type=ACLPermissionType.ALLOW,
        resource_pattern=ResourcePattern(kind, name, pattern),
    )


def _wait_for(admin: Any, wanted: list[Any]) -> None:
    """ACLs reach the authorizer asynchronously: poll until every one is listed."""
    from kafka.admin import (
        ACLFilter,
        ACLOperation,
        ACLPermissionType,
        ACLResourcePatternType,
        ResourcePatternFilter,
        ResourceType,
    )

    everything = ACLFilter(
        principal=None,
        host="*",
        operation=ACLOperation.ANY,
        permission_type=ACLPermissionType.ANY,
        resource_pattern=ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY),
    )
    keys = {_key(acl) for acl in wanted}
    deadline = time.monotonic() + GRANT_TIMEOUT
    while True:
        listed, _ = admin.describe_acls(everything)
        missing = keys - {_key(acl) for acl in listed}
        if not missing:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the broker never listed these ACLs: {sorted(missing)}")
        time.sleep(0.1)


def _key(acl: Any) -> tuple[str, str, int, int, str, int]:
    pattern = acl.resource_pattern
    return (
        acl.principal,
        acl.host,
        int(acl.operation),
        int(pattern.resource_type),
        pattern.resource_name,
        int(pattern.pattern_type),
    )
