# Stand-in for nats:2.9.10-alpine: Debian's nats-server 2.9.10, the same entrypoint and command, and
# a wget (busybox's, in the official image) for the health check.
ARG BASE
FROM ${BASE}
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nats-server wget \
  && rm -rf /var/lib/apt/lists/* && ln -s /usr/sbin/nats-server /usr/local/bin/nats-server
COPY nats-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
EXPOSE 4222 6222 8222
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["nats-server", "--config", "/etc/nats/nats-server.conf"]
