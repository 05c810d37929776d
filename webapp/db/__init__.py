"""Database plumbing under the models and services: pool checks, prepared-statement reuse, SQL helpers, UTC times."""
