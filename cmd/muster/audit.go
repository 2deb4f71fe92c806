package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/muster-dev/muster/review"
)

// ErrAuditBroken is returned by `muster audit verify` when the chain is
// broken, so the process exits non-zero.
var ErrAuditBroken = errors.New("the review audit log's hash chain is broken")

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
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else if rep.OK {
		fmt.Fprintf(e.stdout, "review audit log: ok, %d rows, head %s\n", rep.Rows, rep.Head)
	} else {
		fmt.Fprintf(e.stdout, "review audit log: BROKEN at row %d: %s (%d rows before it verified)\n", rep.BrokenAt, rep.Problem, max(rep.BrokenAt-1, 0))
	}
	if !rep.OK {
		return fmt.Errorf("%w at row %d", ErrAuditBroken, rep.BrokenAt)
	}
	return nil
}
