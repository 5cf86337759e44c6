"""The HTTP gateway (FastAPI, one process, a Ray driver) and the CLI."""
