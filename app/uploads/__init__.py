"""Resumable uploads (tus 1.0.0): protocol, service, receiving one PATCH, routes."""
