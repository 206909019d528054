"""reelforge API tier and the shared core (settings, db, models, storage, queue)."""
