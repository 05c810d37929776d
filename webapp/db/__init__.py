"""Database plumbing under the models and services: prepared-statement reuse, SQL helpers, UTC times."""
