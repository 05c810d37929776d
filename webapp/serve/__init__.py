"""How the processes start: gunicorn's configuration and worker class, and the container entrypoint."""
