"""Prefect flows: each module puts one job's steps in order."""
