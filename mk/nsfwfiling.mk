# The NSFW analyzer as it was when issue 15 was filed (its "today's"): main
# at the end of session 4 (0888b52: every tile, nsfwjs's decimating resize,
# one model, one batch per design), built from that commit's own code into
# var/nsfw-filing/COMMIT/nsfwserve (eval/nsfwserve copied into the checkout)
# with its own converted models beside it. bench-pipeline times it on the
# same designs in the same run as the current analyzer and prints the
# ratio the issue's target is about.
#   make nsfw-filing [NSFW_FILING_COMMIT=...]
#   make bench-nsfw          # bench-pipeline, hash and nsfw, 60 designs, 1 client, all three variants

NSFW_FILING_COMMIT ?= 0888b5285236773fe7c02ffd8b7be966615f6d67
NSFW_FILING_DIR    := var/nsfw-filing/$(NSFW_FILING_COMMIT)
NSFW_FILING_BIN    := $(NSFW_FILING_DIR)/nsfwserve

.PHONY: nsfw-filing bench-nsfw

## bench-nsfw: issue 15's speed target: the NSFW analyzer's new tiles, old tiles and filing-time build, interleaved in bench-pipeline.
bench-nsfw:
	MUSTER_ANALYZERS=hash,nsfw $(MAKE) bench-pipeline N=60 CLIENTS=1 NSFW_FILING=nsfw-filing

## nsfw-filing: build the NSFW analyzer of the commit issue 15 was filed at (for bench-pipeline).
nsfw-filing: $(NSFW_FILING_BIN)

$(NSFW_FILING_BIN): eval/nsfwserve/main.go
	rm -rf $(NSFW_FILING_DIR)/src && mkdir -p $(NSFW_FILING_DIR)/src/eval/nsfwserve
	git archive $(NSFW_FILING_COMMIT) | tar -x -C $(NSFW_FILING_DIR)/src
	cp eval/nsfwserve/main.go $(NSFW_FILING_DIR)/src/eval/nsfwserve/
	cd $(NSFW_FILING_DIR)/src && $(GO) build -o ../nsfwserve ./eval/nsfwserve
	rm -rf $(NSFW_FILING_DIR)/src
