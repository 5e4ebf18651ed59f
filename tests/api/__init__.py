"""HTTP tests against the embedded WSGI app (SQLite in tmp_path, no threads)."""
