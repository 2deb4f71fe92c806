# Benign designs (issue 15): how many harmless designs the whole scan path
# holds, per market and per cause, development seeds apart from frozen test
# seeds.
#   make eval-benign [BENIGN_N=300] [BENIGN_DEV=1,2] [BENIGN_ARGS=-v]     development seeds only
#   make eval-benign-test BENIGN_TEST=1003,1004                           frozen test seeds, once per version, never -v
# Frozen seeds used so far: 1001,1002 (session 6, twice: two versions); 1003,1004 (session 7); 1005,1006 (session 8); 1007,1008 (session 9).

BENIGN_N    ?= 300
BENIGN_DEV  ?= 1,2
BENIGN_TEST ?=
BENIGN_ARGS ?=
BENIGN_FONTS := fonts-lato fonts-open-sans fonts-roboto fonts-liberation2 fonts-freefont-ttf fonts-bebas-neue \
	fonts-lobster fonts-comic-neue fonts-league-spartan fonts-dejavu-core

.PHONY: eval-benign eval-benign-test benign-fonts

## benign-fonts: the slogan fonts the generator draws from (Debian fonts-*).
benign-fonts:
	@missing=""; for p in $(BENIGN_FONTS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; fi

## eval-benign: harmless designs through the whole scan path (analyzers + live policy); niced.
eval-benign: deps benign-fonts
	nice -n 10 $(GO) run ./internal/pgtest/pgtmp -- $(GO) run ./eval/benign -n $(BENIGN_N) \
		-dev-seeds $(BENIGN_DEV) -test-seeds "" $(BENIGN_ARGS)

## eval-benign-test: the frozen test seeds named in BENIGN_TEST, with no development seeds and no -v.
eval-benign-test: deps benign-fonts
	@[ -n "$(BENIGN_TEST)" ] || { echo "name the frozen seeds: make eval-benign-test BENIGN_TEST=..."; exit 2; }
	nice -n 10 $(GO) run ./internal/pgtest/pgtmp -- $(GO) run ./eval/benign -n $(BENIGN_N) \
		-dev-seeds "" -test-seeds $(BENIGN_TEST)
