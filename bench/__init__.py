"""`make bench`: the original capacity tests re-run on the native production stack (devstack),
each beside a bare baseline measured in the same run.

    runner    modes, stages, results.json, the report (`python -m bench [--quick|--smoke]`)
    web       Locust uploads: reelforge vs the bare endpoint, and the shipped limits
    memory    API RSS during one large streamed upload
    workers   the worker tier vs the same FFmpeg commands run bare
    enqueue   messages/s through core.jobs.dispatch
    report    docs/BENCHMARKS.md and the plots
    locustfile, bare_app   what Locust runs, and the baseline it runs against
"""
