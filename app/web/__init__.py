"""The web client at /app/: static files, no Node at runtime, a strict Content-Security-Policy."""
