"""Named write operations. They flush; the request (or CLI command) commits once, or rolls back."""
