"""policytrail's storage: one SQLite file, its migrations, and every SQL statement."""
