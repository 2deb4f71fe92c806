# Muster: two commands on a fresh machine.
#   make run    set everything up and run the all-in-one pipeline on :8080
#   make test   the whole suite against a real PostgreSQL and a real NATS
# Parts add their own targets in mk/*.mk.

SHELL := /bin/bash
GO    ?= go
BIN   := bin/muster
SUDO  := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export PATH := /usr/local/go/bin:$(PATH)

.PHONY: all build deps run test test-short fuzz bench bench-pipeline vet clean

all: build

## deps: install what the machine lacks (PostgreSQL server binaries, Go modules).
deps:
	@command -v $(GO) >/dev/null || { echo "Go is required (https://go.dev/dl)"; exit 1; }
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null; then \
		echo "installing PostgreSQL server binaries with apt-get"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql >/dev/null; \
	fi
	@if [ "$$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then useradd --system --home /var/lib/postgresql postgres; fi
	$(GO) mod download

build: deps
	$(GO) build -o $(BIN) ./cmd/muster

## setup: everything run needs beyond the binary (models, banks), added by mk/*.mk.
SETUP_TARGETS ?=
setup: build $(SETUP_TARGETS)

run: setup
	./$(BIN) run

## test: one throwaway PostgreSQL cluster for the whole run; an embedded NATS per test.
test: deps
	$(GO) vet ./...
	$(GO) run ./internal/pgtest/pgtmp -- $(GO) test -count=1 -timeout 40m ./...
	$(MAKE) fuzz FUZZTIME=15s

FUZZTIME ?= 60s
fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzDecode -fuzztime=$(FUZZTIME) ./internal/imaging

test-short: deps
	$(GO) run ./internal/pgtest/pgtmp -- $(GO) test -short -count=1 ./...

BENCH_TARGETS ?= bench-pipeline
bench: $(BENCH_TARGETS)

## bench-pipeline: N designs through the running pipeline; designs/s, latency percentiles, time per stage;
## the NSFW analyzer's mean time with the old and the new tiles on the same designs and their ratio;
## NSFW_FILING=nsfw-filing (what make bench-nsfw sets) also times the analyzer as it was when issue 15 was filed.
##   make bench-pipeline N=60 CLIENTS=1 [BENCH_ARGS="-nsfw-tiles new"]
N ?= 200
CLIENTS ?= 8
BENCH_ARGS ?=
NSFW_FILING ?=
bench-pipeline: deps $(NSFW_FILING)
	$(GO) run ./internal/pgtest/pgtmp -- $(GO) run ./eval/benchpipeline -n $(N) -clients $(CLIENTS) \
		$(if $(NSFW_FILING),-nsfw-filing $(NSFW_FILING_BIN)) $(BENCH_ARGS)

clean:
	rm -rf bin

-include mk/*.mk
