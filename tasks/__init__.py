"""Small, pure, typed steps: DataFrames, config objects and paths in and out; Prefect decorators only."""
