"""The warehouse: star schema, engine, migrations, seeds and documented views."""
