"""The compute tier: Celery workers that run the media pipeline. It imports the shared core
(`core`) and never `app`.

    celery_app  worker configuration and signals      tasks     thin tasks (take an id)
    pipeline    one job, start to finish              outcome   Outcome + retry policy
    progress    progress → heartbeat                  tempdirs  per-job scratch folders
    context     per-process resources                 reconciler  the re-send thread
    metrics     worker Prometheus metrics             media/    FFmpeg and nothing else
"""
