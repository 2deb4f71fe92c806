# Fault-injection soak (issue 12). Included by the root Makefile; not part of
# make test (a few minutes); make test runs the short cluster test instead
# (cmd/muster/app TestClusterLeaderLoss).
.PHONY: soak

SOAK_N ?= 10000
SOAK_FULL ?= 1000
SOAK_LEADER_DOWN ?= 30s
SOAK_ARGS ?=

## soak: 3-node NATS cluster (R3), PostgreSQL, 3 `muster worker` and 2 `muster serve` processes; SOAK_N uploads while a worker is
## killed -9 (twice), the stream leader's node is down for SOAK_LEADER_DOWN, PostgreSQL restarts, an API instance is killed -9 and a
## webhook receiver hangs; then SOAK_FULL designs with every analyzer (workers restarted with the models; a worker killed, the leader
## stopped); fails unless every accepted design ends decided or failed, none lost, duplicated, stuck or unanalysed.
soak: build
	nice $(GO) run ./eval/soak -muster $(BIN) -n $(SOAK_N) -full $(SOAK_FULL) -leader-down $(SOAK_LEADER_DOWN) $(SOAK_ARGS)
