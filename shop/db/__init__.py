"""PostgreSQL access: the pool, the request's connection, retries, migrations, embedded server."""
