# Text matching (issue 11): word marks, banned phrases and hate codes in text.
#   make textmatch-deps   the Debian word list (wamerican) the genericness rules and tests read
#   make test-textmatch   the matcher, phrase bank and word-mark tests (fetches simple-icons from npm on first run)
#   make bench-textmatch  one 200-character listing text against ~4,000 real word marks and the phrase bank
.PHONY: textmatch-deps test-textmatch bench-textmatch

textmatch-deps:
	@test -s /usr/share/dict/words || { \
		echo "installing wamerican (word list)"; $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq wamerican >/dev/null; }

deps: textmatch-deps

test-textmatch: textmatch-deps
	$(or $(GO),go) test -count=1 ./bank/textmatch/... ./bank/phrases/... ./bank/wordmarks/...

bench-textmatch: textmatch-deps
	$(or $(GO),go) test ./bank/textmatch/ -run '^$$' -bench . -benchmem
