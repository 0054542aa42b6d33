# syntax=docker/dockerfile:1

# ---- build ---------------------------------------------------------------
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src

# Dependencies first, against stub sources, so that this layer is reused
# until Cargo.toml or Cargo.lock change.
COPY Cargo.toml Cargo.lock build.rs ./
COPY migrations/Cargo.toml migrations/Cargo.toml
COPY proto proto
RUN mkdir -p src migrations/src tests/api benches \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs migrations/src/lib.rs tests/api/main.rs benches/throughput.rs \
 && cargo build --release --locked \
 && rm -rf src migrations/src

COPY src src
COPY migrations/src migrations/src
# Make cargo see the real sources as newer than the stub build.
RUN touch src/main.rs src/lib.rs migrations/src/lib.rs \
 && cargo build --release --locked --bin numbering

# ---- run -----------------------------------------------------------------
# Nothing to install: TLS roots for database connections are built in
# (rustls with webpki roots). `sleep` is there for a preStop hook.
FROM debian:bookworm-slim
RUN groupadd --system --gid 10001 numbering \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/numbering --create-home numbering
COPY --from=build /src/target/release/numbering /usr/local/bin/numbering

# Numeric, so that Kubernetes can check runAsNonRoot.
USER 10001:10001
WORKDIR /var/lib/numbering
ENV NUMBERING_LISTEN=0.0.0.0:50051 \
    NUMBERING_METRICS_LISTEN=0.0.0.0:9090 \
    DATABASE_URL=sqlite:///var/lib/numbering/numbering.db?mode=rwc
# gRPC (with health and reflection), then Prometheus metrics.
EXPOSE 50051 9090
# Kubernetes sends SIGTERM: numbering reports NOT_SERVING, drains for
# NUMBERING_SHUTDOWN_GRACE, then exits.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/numbering"]
