"""Programme, cohort, session, attendance and peer-group events as published: every one
validates against its registered schema, and none carries a facilitator's name."""

from __future__ import annotations

import datetime as dt

from services.enrolment.application import EnrolmentApplication
from services.enrolment.domain.attendance import Mark
from services.enrolment.integration import translate
from shared.events import default_registry
from shared.outbox import Outbox
from tests.unit.factories import meta, person_fields

HKI = dt.timezone(dt.timedelta(hours=2))


def test_every_published_event_validates_and_names_nobody(
    enrolment: EnrolmentApplication,
) -> None:
    app = enrolment
    programme_id = app.define_programme("TEMPO", "TEM", meta(), goals=("grow",)).id
    app.add_programme_goal(programme_id, "rotate", meta())
    cohort_id = app.plan_cohort(
        programme_id, "2020", 1, dt.date(2020, 2, 1), dt.date(2020, 6, 30), meta(), "Kaiku"
    ).id
    app.change_cohort_status(cohort_id, "open", meta(), on=dt.date(2020, 1, 10))
    a, b, c, d = (
        app.register_person(person_fields(employee_number=f"E{n}"), meta()).id for n in range(4)
    )
    app.invite(cohort_id, a, meta(), on=dt.date(2020, 1, 10))
    app.accept_invitation(cohort_id, a, meta(), on=dt.date(2020, 1, 12))
    app.invite(cohort_id, c, meta(), on=dt.date(2020, 1, 10))
    app.decline_invitation(cohort_id, c, meta(), reason="workload", on=dt.date(2020, 1, 12))
    app.admit(cohort_id, b, meta(), on=dt.date(2020, 1, 13))  # waitlisted
    app.admit(cohort_id, d, meta(), on=dt.date(2020, 1, 13))  # waitlisted behind b
    app.withdraw(cohort_id, d, "changed jobs", meta(), on=dt.date(2020, 1, 14))  # leaves it
    app.change_cohort_status(cohort_id, "start", meta(), on=dt.date(2020, 2, 1))
    session = app.schedule_session(
        cohort_id,
        "Kick-off",
        dt.datetime(2020, 2, 5, 9, tzinfo=HKI),
        meta(),
        {
            "facilitators": [
                {"kind": "guest_speaker", "role": "Head of Department", "name": "Zebulon Quist"}
            ]
        },
    )
    app.reschedule_session(session.id, dt.datetime(2020, 2, 6, 9, tzinfo=HKI), "clash", meta())
    app.change_session_delivery(session.id, "virtual", "COVID-19", meta(), platform="Skype")
    other = app.schedule_session(cohort_id, "x", dt.datetime(2020, 3, 2, tzinfo=HKI), meta())
    app.cancel_session(other.id, "trainer ill", meta())
    app.record_attendance(session.id, [Mark(a, "absent")], None, meta())
    app.record_attendance(session.id, [Mark(a, "partial", 60)], "came late", meta())
    group = app.form_peer_group(cohort_id, "G", [a], meta())
    app.remove_peer_group_member(group.id, a, meta())
    app.add_peer_group_member(group.id, a, meta())
    app.withdraw(cohort_id, a, "moved", meta(), on=dt.date(2020, 3, 1))  # promotes b
    app.change_cohort_status(cohort_id, "complete", meta(), on=dt.date(2020, 6, 30))
    app.complete_participation(cohort_id, b, meta(), on=dt.date(2020, 6, 30))
    app.retire_programme(programme_id, "done", meta(), on=dt.date(2023, 1, 1))

    registry = default_registry()
    envelopes = Outbox("enrolment", app, translate, registry).read(0, 1000).envelopes
    types = [e.type.rsplit(".", 1)[1] for e in envelopes]
    for envelope in envelopes:
        registry.load(envelope.type, envelope.data)  # raises if the data breaks the schema
    assert set(types) >= {
        "ProgrammeGoalAdded",
        "ProgrammeRetired",
        "CohortStatusChanged",
        "ParticipantInvited",
        "InvitationAccepted",
        "InvitationDeclined",
        "ParticipantWaitlisted",
        "ParticipantEnrolled",
        "ParticipantWithdrawn",
        "ParticipantLeftWaitlist",
        "ParticipantCompleted",
        "SessionScheduled",
        "SessionRescheduled",
        "SessionDeliveryChanged",
        "SessionHeld",
        "SessionCancelled",
        "AttendanceRecorded",
        "AttendanceCorrected",
        "PeerGroupFormed",
        "PeerGroupMemberAdded",
        "PeerGroupMemberRemoved",
    }
    # b was promoted from the waitlist: published as enrolled, effective on the withdrawal day.
    enrolled = [e for e in envelopes if e.type.endswith("ParticipantEnrolled")]
    assert [e.data["person_id"] for e in enrolled] == [str(a), str(b)]
    assert enrolled[1].data["enrolled_at"].startswith("2020-03-01")
    planned = next(e for e in envelopes if e.type.endswith("CohortPlanned"))
    assert planned.data["funding_source"] == "Kaiku"
    scheduled = next(e for e in envelopes if e.type.endswith("SessionScheduled"))
    assert scheduled.data["facilitators"] == [
        {"kind": "guest_speaker", "role": "Head of Department", "organisation": None}
    ]
    assert "Quist" not in str([e.data for e in envelopes])
    # Bookkeeping (listings, the peer-group register) is not published.
    assert not [t for t in types if "Listing" in t or "PeerGroupsOfCohort" in t]
