"""Every tracking view of the TEMPO 2020 pilot in the production shape, against the scenario.

The pilot is loaded through the HTTP APIs into services on PostgreSQL; their relays publish to
a real Kafka broker, and the projector builds the read models (PostgreSQL) from the topics.
Each view is then checked by the same assertions the embedded API tests make, which compare
it with figures computed from the scenario's own data, never from the read models: funnel
counts, attendance virtual against in person, growth means and confidence intervals,
Kaplan-Meier points, comparison-group rates, and small-cell suppression.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.runtime import build_embedded
from shared.settings import WRITE_SERVICES
from tests.api import test_tracking_funnel as funnel
from tests.api import test_tracking_growth as growth
from tests.api import test_tracking_headlines as headlines
from tests.api import test_tracking_kirkpatrick as kirkpatrick
from tests.api import test_tracking_mobility as mobility
from tests.api import test_tracking_network as network
from tests.api import test_tracking_reaction as reaction
from tests.api import test_tracking_staff_survey as staff_survey
from tests.api import test_tracking_temporal as temporal
from tests.api import test_tracking_timeline as timeline
from tests.support.kafka_acls import Principals
from tests.support.pilot import Pilot, load_pilot
from tests.support.postgres_server import create_database, drop_database
from tests.support.slice import SECRET, production_settings, wait_for

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


@pytest.fixture(scope="module")
def kafka_pilot(
    tmp_path_factory: pytest.TempPathFactory, kafka_principals: Principals, postgres_url: str
) -> Iterator[Pilot]:
    """The pilot through Kafka into PostgreSQL read models, projected to the last event."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    url = create_database(postgres_url, name)
    settings = production_settings(
        Path(tmp_path_factory.mktemp("kafka-pilot")), url, kafka_principals
    )
    runtime = build_embedded(settings)
    runtime.start()
    try:
        pilot = load_pilot(runtime, SECRET)
        # Every event tracking subscribes to, counted: the last event's position alone says
        # nothing of a topic's other partitions, which a batch may not have reached yet.
        expected = sum(
            len({e.id for e in runtime.services[s].tracking_outbox.read(0, 1_000_000).envelopes})
            for s in WRITE_SERVICES
        )
        applied = lambda: runtime.tracking.readmodels.count("tr_applied_events")  # noqa: E731
        wait_for(lambda: applied() >= expected, 180, "every event of the pilot projected")
        assert applied() == expected
        yield pilot
    finally:
        runtime.close()
        drop_database(postgres_url, name)


def test_the_funnel_and_attendance_virtual_against_in_person(kafka_pilot: Pilot) -> None:
    funnel.test_the_funnel_counts_every_stage_of_the_pilot(kafka_pilot)
    funnel.test_attendance_per_session_and_by_delivery_match_the_scenario(kafka_pilot)
    funnel.test_each_participant_has_an_attendance_rate_for_coordinators(kafka_pilot)


def test_the_growth_means_and_confidence_intervals(kafka_pilot: Pilot) -> None:
    growth.test_every_wave_cell_matches_the_scenario(kafka_pilot)
    growth.test_the_paired_change_matches_the_scenario(kafka_pilot)
    growth.test_a_department_of_five_is_shown_and_matches_the_scenario(kafka_pilot)


def test_small_growth_cells_are_suppressed(kafka_pilot: Pilot) -> None:
    growth.test_a_department_of_two_gives_only_suppressed_cells(kafka_pilot)


def test_the_kaplan_meier_points_and_the_comparison_group(kafka_pilot: Pilot) -> None:
    view = kafka_pilot.json(f"/tracking/cohorts/{kafka_pilot.cohort_id}/mobility")
    mobility.test_the_participants_kaplan_meier_curve_matches_a_product_limit(view)
    mobility.test_every_participant_figure_matches_the_scenario(view)
    mobility.test_the_6_12_24_month_shares_of_participants(view)
    mobility.test_the_comparison_group_is_all_forty_colleagues(view)
    mobility.test_the_difference_is_participants_minus_comparison(view)
    mobility.test_a_department_filter_selects_the_comparison_group(kafka_pilot)


def test_a_small_comparison_group_is_suppressed_and_differencing_refused(
    kafka_pilot: Pilot,
) -> None:
    mobility.test_a_comparison_group_below_the_minimum_is_suppressed(kafka_pilot)
    mobility.test_filters_differing_by_few_people_across_two_calls_are_refused(kafka_pilot)


def test_reaction_and_staff_survey_trends(kafka_pilot: Pilot) -> None:
    reaction.test_responses_items_and_the_response_rate_match_the_scenario(kafka_pilot)
    reaction.test_comments_are_shown_sorted_once_the_comment_minimum_is_met(kafka_pilot)
    staff_survey.test_the_units_are_the_participants_on_the_start_date(kafka_pilot)
    staff_survey.test_index_values_per_year_match_the_stored_rows(kafka_pilot)
    staff_survey.test_change_before_and_after_against_the_organisation(kafka_pilot)


def test_the_network_of_peer_groups(kafka_pilot: Pilot) -> None:
    view = kafka_pilot.json(f"/tracking/cohorts/{kafka_pilot.cohort_id}/network")
    network.test_each_peer_group_spans_what_the_scenario_says(view)
    network.test_the_group_the_withdrawn_participant_left_is_suppressed(view)


@pytest.mark.parametrize("key", ["P02", "P07", "P14"])
def test_participant_timelines(kafka_pilot: Pilot, key: str) -> None:
    timeline.test_the_timeline_holds_what_the_scenario_did_in_order(kafka_pilot, key)


def test_the_kirkpatrick_summary(kafka_pilot: Pilot) -> None:
    kirkpatrick.test_level_one_is_the_reaction_surveys_mean_and_response_rate(kafka_pilot)
    kirkpatrick.test_levels_two_and_three_show_improvement_from_the_ratings(kafka_pilot)
    kirkpatrick.test_level_four_compares_rotation_and_retention_with_the_comparison_group(
        kafka_pilot
    )
    kirkpatrick.test_a_programme_pools_its_cohorts(kafka_pilot)


def test_the_headline_figures_and_their_intervals(kafka_pilot: Pilot) -> None:
    cohort = f"/tracking/cohorts/{kafka_pilot.cohort_id}"
    growth_view = kafka_pilot.json(f"{cohort}/growth")
    headlines.test_the_growth_headline_is_over_each_persons_mean_change(growth_view)
    headlines.test_holm_adjusts_every_headline_shown_and_says_how_many(growth_view)
    view = kafka_pilot.json(f"{cohort}/mobility")
    headlines.test_the_difference_has_a_greenwood_interval(view)
    headlines.test_the_log_rank_tests_match_a_hand_computation(view)
    headlines.test_aalen_johansen_incidence_with_leaving_as_a_competing_risk(view)
    headlines.test_the_matched_group_follows_the_documented_rule(kafka_pilot, view)
    headlines.test_the_balance_table_counts_each_group(kafka_pilot, view)
    headlines.test_the_did_interval_is_the_ols_interaction(kafka_pilot)


def test_as_of_answers_from_the_facts_recorded_by_then(kafka_pilot: Pilot) -> None:
    funnel.test_as_of_answers_from_the_events_recorded_by_then(kafka_pilot)
    # On PostgreSQL too, the temporal tables as of any moment equal the journal replayed.
    temporal.test_as_of_any_recorded_moment_equals_the_journal_replayed_to_then(kafka_pilot)
