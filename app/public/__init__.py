"""Public videos, votes (one per user) and rankings by city."""
