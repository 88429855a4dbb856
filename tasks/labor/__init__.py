"""labor."""
