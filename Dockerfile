# syntax=docker/dockerfile:1
# One image for every executable; a Job picks one with `command` (loader, processor, wqtop).

# The Swift that CI builds and tests with (scripts/image-test fails when the two differ).
FROM swift:6.3.1-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends librabbitmq-dev libncurses-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --static-swift-stdlib \
    && mkdir -p /out \
    && find "$(swift build -c release --show-bin-path)" -maxdepth 1 -type f -perm -u+x \
        \( -name loader -o -name processor -o -name wqtop \) -exec cp {} /out/ \;

FROM debian:12-slim AS runtime
# Only the shared libraries the binaries link (Swift's runtime is linked in statically);
# tests/ldd checks this list against `ldd` of the built binaries.
RUN apt-get update \
    && apt-get install -y --no-install-recommends librabbitmq4 libncursesw6 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin worker
COPY --from=build /out/ /usr/local/bin/
# The man pages, generated from the tools' argument parsers (scripts/man; scripts/test checks them).
COPY docs/man/ /usr/local/share/man/man1/
USER 10001
ENV WORK_QUEUE_HOST=work-queue
CMD ["processor", "--help"]
