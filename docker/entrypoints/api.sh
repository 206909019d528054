#!/bin/sh
# The API tier, as compose and `make stack` both run it.
exec gunicorn -c python:app.gunicorn_conf app.main:app
