# Stand-in for nginx:1.27-alpine: Debian's nginx; templates rendered like the official entrypoint.
FROM reelforge-standin/debian:bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends nginx-light gettext-base wget \
 && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/* /etc/nginx/conf.d/* \
 && mkdir -p /etc/nginx/templates /etc/nginx/conf.d
COPY nginx-entrypoint.sh /docker-entrypoint.sh
EXPOSE 80
STOPSIGNAL SIGQUIT
ENTRYPOINT ["/docker-entrypoint.sh"]
CMD ["nginx", "-g", "daemon off;"]
