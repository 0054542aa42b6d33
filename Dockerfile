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
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/numbering --create-home numbering
COPY --from=build /src/target/release/numbering /usr/local/bin/numbering

USER numbering
WORKDIR /var/lib/numbering
ENV NUMBERING_LISTEN=0.0.0.0:50051 \
    DATABASE_URL=sqlite:///var/lib/numbering/numbering.db?mode=rwc
EXPOSE 50051
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/numbering"]
