"""The state-scale benchmark: a synthetic administration of up to 100,000 people.

``plan`` draws the administration from a seed; ``enrolment`` and ``assessment`` load it through
the write applications; ``measure`` runs one size (load, rebuild, store sizes, memory);
``views`` times every tracking view, live and ``as_of``, beside ``baseline``'s hand-written SQL;
``report`` prints the tables and the growth between sizes; ``postgres`` finds a server;
``__main__`` is the command line (``python -m benchmarks.state --help``).
"""
