"""The TEMPO 2020 pilot as reusable, clearly synthetic scenario code.

``organisation`` holds the ministry's departments and units and the people (20 participants and a
comparison group of colleagues who did not take part); ``enrolment`` and ``assessment`` load the
pilot through the public HTTP APIs with a :class:`~services.scenario.client.Call`. The demo, the
scenario tests and the tracking tests all use these modules, so the figures a test expects can be
computed from the scenario's own data rather than from what the system stored.
"""
