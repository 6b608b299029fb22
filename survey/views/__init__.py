"""Views grouped by who uses them."""
