#!/bin/sh
# One-off: bring the database schema up to date (safe to run repeatedly).
exec alembic upgrade head
