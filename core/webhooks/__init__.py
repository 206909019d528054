"""Signed webhooks (Standard Webhooks): the outbox written with a job's terminal state, the
guarded sender, the retry schedule and the reconciler's sweep."""
