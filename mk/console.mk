# Console (issue 10): web console, accounts, browser tests in headless Chromium.
#   make console-deps   Debian's chromium (for the browser tests), installed when missing
#   make test-console   accounts, console and browser tests (real PostgreSQL, NATS, Chromium)
#   make console-golden refresh the console's golden pages after a deliberate change
.PHONY: console-deps test-console console-golden

console-deps:
	@if ! test -x /usr/bin/chromium && ! command -v chromium >/dev/null 2>&1; then \
		echo "installing chromium (headless browser for the console tests)"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; \
	fi

# make test runs the browser tests too: install the browser first.
test: console-deps

test-console: deps console-deps
	$(GO) run ./internal/pgtest/pgtmp -- $(GO) test -count=1 ./accounts/... ./console/... ./internal/browsertest/...

console-golden:
	$(GO) test -count=1 -run Golden ./console/ -update
