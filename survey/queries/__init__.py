"""Read models: what staff pages show that is not a report (rosters of members, their history, lookups)."""
