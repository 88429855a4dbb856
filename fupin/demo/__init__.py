"""Demo and fixture data generators, shared by tests, bench and scripts/demo.py."""
