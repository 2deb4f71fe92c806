# Bank (issue 3): logo-matching evaluation and Hamming index benchmark.
#   make eval-logos [EVAL_N=150] [EVAL_SEED=1]   recall / flagged share / ms per design
#   make eval-logos-seeds [EVAL_N=150] [EVAL_SEEDS="1 2 3 4 11 21"]   the same, per seed (docs/bank.md)
#   make bench-bank [BENCH_SIZES=1000,100000,1000000] [BENCH_RADIUS=…]

EVAL_N      ?= 150
EVAL_SEED   ?= 1
EVAL_SEEDS  ?= 1 2 3 4 11 21
BENCH_SIZES ?= 1000,100000,1000000
BENCH_RADIUS ?= 0

.PHONY: eval-logos eval-logos-seeds bench-bank

eval-logos:
	@test -f /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf || { \
		echo "installing fonts-dejavu"; $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq fonts-dejavu-core >/dev/null; }
	$(GO) run ./eval/logos -n $(EVAL_N) -seed $(EVAL_SEED) -v

eval-logos-seeds:
	@for s in $(EVAL_SEEDS); do $(MAKE) --no-print-directory eval-logos EVAL_N=$(EVAL_N) EVAL_SEED=$$s || exit 1; done

bench-bank:
	$(GO) run ./eval/benchbank -sizes $(BENCH_SIZES) -radius $(BENCH_RADIUS)
