"""analyst."""
