"""The job domain: every change of a video job's state happens in this package.

    lifecycle  create (row + enqueue after commit), cancel            — async, the API calls it
    store      claim, heartbeat (lease), complete, fail, release, take_stale — sync, fenced
    dispatch   the message, the publisher, enqueue = an after-commit action
    resend     the reconciler's round: re-send what the broker lost or a dead worker left
    backlog    queued/processing counts and the oldest queued age (admission, metrics)
    broker     the Celery app factory and the task names

docs/architecture.md has the picture of a job's life and which function moves it.
"""
