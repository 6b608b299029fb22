"""Export builders: report tables, charts, the brief and pack, the full response export (frames in, bytes out)."""
