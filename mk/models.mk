# ONNX image classifiers (issue 4). Included by the root Makefile.
.PHONY: bench-classifiers test-models

## bench-classifiers: NSFW model under ONNX Runtime vs nsfwjs on tfjs-cpu (images/s, p50, overhead over raw ORT)
bench-classifiers:
	$(or $(GO),go) run ./eval/benchclassifiers

## test-models: converter, nsfwjs parity (≥ 50 images through Node), analyzer; fetches ORT and nsfwjs on first run
test-models:
	$(or $(GO),go) test -count=1 ./models/...

bench: bench-classifiers
