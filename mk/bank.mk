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

# Issue 14: the held-out logo evaluation (eval/logos2, package logos2gen).
#   make eval-logos2 [EVAL2_SEEDS=101,102,103] [EVAL2_SCALE=1] [EVAL2_FLAGS=-v]   development seeds
#   make eval-logos2-test [EVAL2_TEST_FLAGS="-seeds 9003 -scale 0.2"]   the frozen test seeds (default 9003,9004), once per match.Version and seed (recorded in eval/logos2/TESTRUNS.md)
#   make bench-logos [BENCH_LOGOS_SCALE=0.2]   matching latency: CPU ms on one core per 1200² design of dev seed 101, p50/p95 and the ratio to the 600 ms target
EVAL2_SEEDS ?= 101,102,103
EVAL2_SCALE ?= 1
EVAL2_FLAGS ?=
EVAL2_TEST_FLAGS ?=
BENCH_LOGOS_SCALE ?= 0.2
EVAL2_FONTS = fonts-dejavu-core fonts-dejavu-extra fonts-lato fonts-liberation2 fonts-open-sans fonts-roboto-unhinted fonts-freefont-ttf

.PHONY: eval-logos2 eval-logos2-test eval-logos2-fonts bench-logos
eval-logos2-fonts:
	@test -f /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf -a -f /usr/share/fonts/truetype/lato/Lato-Black.ttf || { \
		echo "installing $(EVAL2_FONTS)"; $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(EVAL2_FONTS) >/dev/null; }

eval-logos2: eval-logos2-fonts
	nice $(GO) run ./eval/logos2 -seeds $(EVAL2_SEEDS) -scale $(EVAL2_SCALE) $(EVAL2_FLAGS)

eval-logos2-test: eval-logos2-fonts
	nice $(GO) run ./eval/logos2 -test $(EVAL2_TEST_FLAGS)

bench-logos: eval-logos2-fonts
	$(GO) run ./eval/logos2 -seeds 101 -scale $(BENCH_LOGOS_SCALE) -target-ms 600
