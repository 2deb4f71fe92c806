# Review workflow benchmark (issue 10). Included by the root Makefile.
.PHONY: bench-review

## bench-review: ITEMS pending review items, REVIEWERS concurrent reviewers claiming and deciding through the API (real PostgreSQL), one phase per THINK (mean time a reviewer looks at an item; 0 = saturation): claims/s, claim and decide p50/p99, ratio to the 50 ms claim p99 target; STATEMENTS=1 adds pg_stat_statements, wait sampling and the claim's plan
ITEMS ?= 10000
REVIEWERS ?= 50
DECISIONS ?= 2500
THINK ?= 0,3s
STATEMENTS ?=
BENCH_REVIEW_PG = $(if $(STATEMENTS),-c shared_preload_libraries=pg_stat_statements)
BENCH_REVIEW_FLAGS = $(if $(STATEMENTS),-statements -explain)
bench-review: deps
	uptime
	nice $(GO) run ./internal/pgtest/pgtmp $(BENCH_REVIEW_PG) -- $(GO) run ./eval/benchreview -items $(ITEMS) -reviewers $(REVIEWERS) -decisions $(DECISIONS) -think $(THINK) $(BENCH_REVIEW_FLAGS)
	uptime
