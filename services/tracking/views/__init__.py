"""The tracking views: pure queries over the read models, one module per view.

Every view is a function of a read-only cursor and plain arguments, returning plain data. The
cursor may be the live read models or an ``as_of`` snapshot (:mod:`services.tracking.journal`),
so the SQL here is portable across SQLite and PostgreSQL. Privacy rules live in
:mod:`services.tracking.views.privacy` and every aggregate goes through them.
"""
