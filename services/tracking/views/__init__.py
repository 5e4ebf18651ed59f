"""The tracking views: pure queries over the read models, one module per view.

Every view is a function of a read-only cursor and plain arguments, returning plain data. The
cursor sees the read models live or as of a moment (:mod:`services.tracking.temporal`),
so the SQL here is portable across SQLite and PostgreSQL. Privacy rules live in
:mod:`services.tracking.views.privacy` and every aggregate goes through them.
"""
