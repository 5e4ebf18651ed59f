"""Peer-group commands and queries: form a group, add and remove members."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from services.enrolment.domain import Meta
from services.enrolment.domain.cohorts import Cohort
from services.enrolment.domain.groups import PeerGroup, PeerGroupsOfCohort
from shared.errors import NotFoundError
from shared.eventstore import ServiceApplication


class PeerGroupCommands(ServiceApplication):
    def _register(self, cohort_id: UUID, meta: Meta | None = None) -> PeerGroupsOfCohort:
        try:
            return self.get(  # type: ignore[no-any-return]
                PeerGroupsOfCohort.create_id(cohort_id), PeerGroupsOfCohort, "peer groups"
            )
        except NotFoundError:
            return PeerGroupsOfCohort(cohort_id, meta or {})

    def form_peer_group(
        self, cohort_id: UUID, name: str, members: Sequence[UUID], meta: Meta
    ) -> PeerGroup:
        def attempt() -> PeerGroup:
            cohort: Cohort = self.get(cohort_id, Cohort, "cohort")
            register = self._register(cohort_id, meta)
            group = PeerGroup.form(cohort, register, name, list(members), meta)
            self.save_all(group, register)
            return group

        return self.retrying(attempt, key=cohort_id)

    def _change_membership(
        self,
        group_id: UUID,
        person_id: UUID,
        meta: Meta,
        expected_version: int | None,
        adding: bool,
    ) -> PeerGroup:
        # Keyed on the group; a race with another group of the cohort is settled by the
        # register's version, and the loser re-runs on fresh state.
        def attempt() -> PeerGroup:
            group: PeerGroup = self.get(
                group_id, PeerGroup, "peer group", expected_version=expected_version
            )
            cohort: Cohort = self.get(group.cohort_id, Cohort, "cohort")
            register = self._register(group.cohort_id, meta)
            if adding:
                group.add_member(cohort, register, person_id, meta)
            else:
                group.remove_member(cohort, register, person_id, meta)
            self.save_all(group, register)
            return group

        return self.retrying(attempt, key=group_id)

    def add_peer_group_member(
        self, group_id: UUID, person_id: UUID, meta: Meta, expected_version: int | None = None
    ) -> PeerGroup:
        return self._change_membership(group_id, person_id, meta, expected_version, True)

    def remove_peer_group_member(
        self, group_id: UUID, person_id: UUID, meta: Meta, expected_version: int | None = None
    ) -> PeerGroup:
        return self._change_membership(group_id, person_id, meta, expected_version, False)

    def peer_group(self, group_id: UUID, version: int | None = None) -> PeerGroup:
        return self.get(group_id, PeerGroup, "peer group", version=version)  # type: ignore[no-any-return]

    def peer_groups_of(self, cohort_id: UUID) -> list[PeerGroup]:
        """The cohort's peer groups in the order they were formed."""
        self.get(cohort_id, Cohort, "cohort")
        register = self._register(cohort_id)
        return [self.peer_group(group_id) for group_id in register.names]
