"""Pure analysis: counts from the tally table in, tidy frames, statistics and chart specs out.

Nothing here knows about Flask requests or sessions: functions take a SQLAlchemy connection, the survey's
context and the query, so the web views, the JSON API, tests and benchmarks all call the same code.

- `dimensions`: the report dimensions, the allow-list of query parameters and their parsing;
- `aggregate`: the only module that reads the database (Core `select` with GROUP BY on `tally`);
- `protection`: the protected partitions that decide which cells a wave publishes;
- `suppression`: applying them to tables;
- `statistics`: shares and Wilson intervals;
- `results`: the numbers each report shows, suppression applied;
- `charts`: Altair charts (one registered theme, a colour-blind-safe palette), SVG rendering;
- `sections`: what one report page shows, section by section.
"""
