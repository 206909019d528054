"""The API tier: FastAPI routers (thin), domain services, dependencies, errors, health,
metrics, rate limits, request ids. It imports the shared core (`core`) and never `worker`."""
