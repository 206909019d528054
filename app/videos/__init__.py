"""Videos: upload (streaming receiver, idempotency, admission), my videos, publish, files."""
