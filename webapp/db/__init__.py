"""Database plumbing under the models and services: pool checks, plain reads in autocommit, SQL helpers, UTC times."""
