"""The enrolment service: system of record for programmes, cohorts, people and enrolments."""
