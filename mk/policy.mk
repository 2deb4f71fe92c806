# Policy engine benchmarks (issue 5). Included by the root Makefile.
.PHONY: bench-policy

## bench-policy: decisions/s of the default pack over 30 markets, and backtest rate (stored designs/s, seeded throwaway PostgreSQL via pgtest)
bench-policy:
	go test ./policy/ -run '^$$' -bench 'Decide30Markets|BacktestRate' -benchtime 2s
