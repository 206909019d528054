"""The shared core: what both tiers import and nothing else.

settings, db (engines, sessions, the one after-commit hook list), models, storage, request_id
(the context variable that carries a request id across tiers), logging_setup, and jobs/ — the
whole life of a video job. The core imports neither `app` (API tier) nor `worker` (compute
tier); import-linter checks that (pyproject.toml).
"""
