# Review workflow benchmark (issue 10). Included by the root Makefile.
.PHONY: bench-review

## bench-review: ITEMS pending review items, REVIEWERS concurrent reviewers claiming and deciding through the API (real PostgreSQL): claims/s, claim and decide p50/p99, ratio to the 50 ms claim p99 target
ITEMS ?= 10000
REVIEWERS ?= 50
DECISIONS ?= 5000
bench-review: deps
	nice $(GO) run ./internal/pgtest/pgtmp -- $(GO) run ./eval/benchreview -items $(ITEMS) -reviewers $(REVIEWERS) -decisions $(DECISIONS)
