-- The migration versions already applied to a database.
SELECT version FROM ${database}.schema_migrations
