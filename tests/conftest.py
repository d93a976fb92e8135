"""Collection: the fixture repos hold code written for the original package; tests/test_migrate.py
runs them on a migrated copy."""

collect_ignore = ["migrate_fixtures"]
