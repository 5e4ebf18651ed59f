"""Fast unit tests: no network, SQLite files in tmp_path at most."""
