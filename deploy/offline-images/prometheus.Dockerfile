# Stand-in for prom/prometheus: Debian's prometheus (2.42), the official image's entrypoint
# behaviour, user and data directory (/prometheus).
ARG BASE
FROM ${BASE}
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus \
  && rm -rf /var/lib/apt/lists/* && mkdir -p /prometheus /etc/prometheus \
  && chown -R nobody:nogroup /prometheus /etc/prometheus
COPY prometheus-entrypoint.sh /usr/local/bin/prometheus
USER nobody
EXPOSE 9090
VOLUME ["/prometheus"]
WORKDIR /prometheus
ENTRYPOINT ["/usr/local/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
