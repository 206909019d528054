"""reelforge compute tier: Celery workers that run the FFmpeg pipeline."""
