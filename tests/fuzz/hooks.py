"""Schemathesis hooks for tests/e2e/test_fuzz.py (SCHEMATHESIS_HOOKS=tests.fuzz.hooks): a tus
PATCH body (application/offset+octet-stream) is sent as the raw bytes it is."""

import schemathesis

schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")
