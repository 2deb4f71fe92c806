package policy

import (
	"errors"
	"slices"

	"github.com/jackc/pgx/v5"
)

// notFound is implemented by the store's not-found errors.
type notFound interface{ NotFound() bool }

// isNotFound reports whether err means "no such row" (a design that has no
// verdict yet).
func isNotFound(err error) bool {
	var nf notFound
	return errors.Is(err, pgx.ErrNoRows) || (errors.As(err, &nf) && nf.NotFound())
}

// Change is one design whose verdict changed on re-decision.
type Change struct {
	DesignID  string `json:"design_id"`
	TenantID  string `json:"tenant_id"`
	VerdictID int64  `json:"verdict_id"`
	// Before and After are the strictest outcomes over all markets.
	Before string `json:"before"`
	After  string `json:"after"`
	// Markets lists the markets whose outcome changed.
	Markets []string `json:"markets"`
	// Decision is the new decision.
	Decision Decision `json:"-"`
}

// RedecideReport summarises a re-decision run.
type RedecideReport struct {
	Version string `json:"version"`
	// Designs read; Rewritten got a new verdict row (those whose latest
	// verdict was not already under Version); Changed differ in some market.
	Designs   int      `json:"designs"`
	Rewritten int      `json:"rewritten"`
	Changed   []Change `json:"changed"`
	// HeldByHuman counts designs whose latest verdict is a reviewer's
	// decision: it stands (the store records no re-decision over it; the
	// review queue opens an item when the new policy disagrees).
	HeldByHuman int `json:"held_by_human"`
	// Tenants whose verdicts changed, sorted.
	Tenants []string `json:"tenants"`
}

// changedMarkets lists markets whose outcome differs (a market missing on
// one side counts as changed).
func changedMarkets(a, b Decision) []string {
	before := map[string]string{}
	for _, m := range a.Markets {
		before[m.Market] = m.Outcome
	}
	var out []string
	for _, m := range b.Markets {
		if o, ok := before[m.Market]; !ok || o != m.Outcome {
			out = append(out, m.Market)
		}
	}
	slices.Sort(out)
	return out
}
