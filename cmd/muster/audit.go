package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/muster-dev/muster/review"
	"github.com/muster-dev/muster/store"
)

// ErrAuditBroken is returned by `muster audit verify` when the review audit
// chain is broken, so the process exits non-zero.
var ErrAuditBroken = errors.New("the review audit log's hash chain is broken")

// ErrEventsBroken is returned by `muster audit verify` when the event log's
// chain is broken (it also wraps store.ErrEventChainBroken).
var ErrEventsBroken = errors.New("the event log's hash chain is broken")

func cmdAudit(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "verify" {
		return errors.New("usage: muster audit verify [--json]")
	}
	asJSON := len(args) > 1 && (args[1] == "--json" || args[1] == "-json")
	_, _, s, err := e.operator(ctx, "audit")
	if err != nil {
		return err
	}
	defer s.Close()
	rep, err := review.VerifyAudit(ctx, s.pool)
	if err != nil {
		return err
	}
	// the event log (store.VerifyEvents): a broken chain is a report, not a
	// failure to check
	erep, eerr := store.New(s.pool).VerifyEvents(ctx)
	var ce *store.EventChainError
	if eerr != nil && !errors.As(eerr, &ce) {
		return eerr
	}
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			ReviewAudit review.VerifyReport    `json:"review_audit"`
			Events      store.EventChainReport `json:"events"`
		}{rep, erep}); err != nil {
			return err
		}
	} else {
		if rep.OK {
			fmt.Fprintf(e.stdout, "review audit log: ok, %d rows, head %s\n", rep.Rows, rep.Head)
		} else {
			fmt.Fprintf(e.stdout, "review audit log: BROKEN at row %d: %s (%d rows before it verified)\n", rep.BrokenAt, rep.Problem, max(rep.BrokenAt-1, 0))
		}
		if erep.OK {
			fmt.Fprintf(e.stdout, "event log: ok, %d rows, head %s\n", erep.Rows, erep.Head)
		} else {
			fmt.Fprintf(e.stdout, "event log: BROKEN at chain row %d: %s (%d rows before it verified)\n", erep.BrokenAt, erep.Problem, erep.Rows)
		}
	}
	var errs []error
	if !rep.OK {
		errs = append(errs, fmt.Errorf("%w at row %d", ErrAuditBroken, rep.BrokenAt))
	}
	if ce != nil {
		errs = append(errs, fmt.Errorf("%w: %w", ErrEventsBroken, ce))
	}
	return errors.Join(errs...)
}
