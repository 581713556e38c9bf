"""File formats and long jobs: CASE packages, standards spreadsheets, OneRoster rosters, exports,
backup and restore, the import jobs, and the CLI commands that drive them.

Arrows point down only: `web → interop → services → models, proficiency`. Interop parses and writes files;
the product's rules it needs (accounts, the default scale, the proficiency cache) it asks of `services`.
"""
