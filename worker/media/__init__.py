"""Media: everything that touches FFmpeg, and nothing about jobs or the database.

commands  pure builders of argument lists (transcode, thumbnail, probe); the one fit filter
runner    the process boundary: run one command, hardened, progress parsed, typed failures
probe     what ffprobe says about an input, and the acceptance rules (limits, containers)
profiles  the output profile and FFmpeg resource limits, built from settings
errors    InputRejected, FFmpegFailed (permanent or not), JobCancelled
"""
