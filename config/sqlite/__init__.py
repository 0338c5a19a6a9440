"""SQLite with its connections kept for the next request (config/sqlite/base.py)."""
