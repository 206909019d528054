#!/bin/sh
# The API tier, as compose and `make stack` both run it.
exec gunicorn -c python:app.gunicorn_conf "${APP_MODULE:-app.main:app}"
