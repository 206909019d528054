# Stand-in for python:3.11-slim: Debian bookworm's Python 3.11, with python and pip on /usr/local/bin.
FROM reelforge-standin/debian:bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-pip \
 && rm -f /usr/lib/python3*/EXTERNALLY-MANAGED \
 && ln -s /usr/bin/python3 /usr/local/bin/python \
 && ln -s /usr/bin/pip3 /usr/local/bin/pip \
 && rm -rf /var/lib/apt/lists/*
CMD ["python3"]
