# OCR: text in designs (issue 11). Included by the root Makefile.
#   make ocr-deps      the font the OCR tests render with (fonts-dejavu-core); part of deps
#   make ocr-models    fetch and checksum the PP-OCRv4 models (also done by `muster run` on start); part of setup
#   make eval-text     generated text designs: Muster's OCR vs Tesseract 5 on the same images (word recall, CER,
#                      word marks, slogans per market, ordinary designs flagged), dev and frozen test seeds
#   make eval-text-val validation seeds TEXT_VAL_SEEDS: fonts in neither the dev nor the test set (condensed, slab,
#                      rounded, display, script, handwriting, stencil, grotesque), dev brands and slogans, Tesseract too
#   make eval-text-ordinary  ordinary slogans (bank/textmatch/testdata) through the OCR analyzer's screening and
#                      the default policy, as written and stacked one word a line: the matcher's false flags
#   make bench-text    time per design: Muster's OCR vs @gutenye/ocr-node (the same models on onnxruntime-node),
#                      24 designs and 10 print files (TEXT_FLAGS=-bench-sequential: also Config.Parallel 1, same run)
# Knobs: TEXT_N (designs per seed set), TEXT_FLAGS (extra flags for eval/text).

TEXT_N     ?= 120
TEXT_FLAGS ?=
TEXT_VAL_SEEDS ?= 21,22,23
TEXT_FONTS := fonts-dejavu-core fonts-lato fonts-open-sans fonts-roboto fonts-liberation2 fonts-freefont-ttf \
	fonts-bebas-neue fonts-lobster fonts-comic-neue fonts-league-spartan fonts-dancingscript fonts-yanone-kaffeesatz \
	fonts-staypuft fonts-cabin fonts-jura fonts-ebgaramond fonts-linuxlibertine fonts-roboto-slab fonts-femkeklaver \
	fonts-tomsontalks fonts-breip fonts-firacode fonts-crosextra-carlito \
	fonts-opendin fonts-national-park fonts-courier-prime fonts-comfortaa fonts-dosis fonts-cherrybomb \
	fonts-leckerli-one fonts-kaushanscript fonts-humor-sans fonts-allerta fonts-beteckna fonts-manrope

.PHONY: ocr-deps ocr-models text-eval-deps eval-text eval-text-val eval-text-ordinary bench-text

ocr-deps:
	@test -f /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf || { \
		echo "installing fonts-dejavu-core (OCR tests render text)"; $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq fonts-dejavu-core >/dev/null; }

deps: ocr-deps

ocr-models: build
	./$(BIN) models setup

setup: ocr-models

## text-eval-deps: Tesseract 5 (the accuracy reference), the word list and the evaluation's fonts
text-eval-deps: textmatch-deps
	@missing=""; command -v tesseract >/dev/null || missing="tesseract-ocr tesseract-ocr-eng"; \
	for p in $(TEXT_FONTS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing$$missing"; $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; fi

eval-text: text-eval-deps
	nice -n 10 $(GO) run ./eval/text -n $(TEXT_N) $(TEXT_FLAGS)

eval-text-val: text-eval-deps
	nice -n 10 $(GO) run ./eval/text -n $(TEXT_N) -dev-seeds "" -test-seeds "" -val-seeds $(TEXT_VAL_SEEDS) $(TEXT_FLAGS)

eval-text-ordinary: textmatch-deps
	$(GO) run ./eval/text -ordinary-text bank/textmatch/testdata/ordinary_slogans.txt

bench-text: text-eval-deps
	nice -n 10 $(GO) run ./eval/text -bench -n 24 $(TEXT_FLAGS)

bench: bench-text
