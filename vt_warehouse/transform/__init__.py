"""The dbt glue: the one child process that runs dbt (`child`), its runner (`run`), the dbt-duckdb plugin that
gives the models the keys and registries (`plugin`), and the models Python reads (`exposures`)."""
