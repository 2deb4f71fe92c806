package policy

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/muster-dev/muster/mustertype"
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

// Redecide re-decides every decided design created at or after since under
// the live version, writes a verdict row (cause "redecide") for each whose
// latest verdict was under another version, and calls notify (if not nil)
// for each design whose outcome changed in some market, after its row is
// committed. Running it again is a no-op. A human decision is never
// overridden: the store keeps it (HeldByHuman).
func (s *Store) Redecide(ctx context.Context, a Actor, since time.Time, notify func(context.Context, Change) error) (RedecideReport, error) {
	if err := a.require(RoleLegal, RoleAdmin); err != nil {
		return RedecideReport{}, err
	}
	st, err := s.State(ctx)
	if err != nil {
		return RedecideReport{}, err
	}
	if st.Live == nil {
		return RedecideReport{}, fmt.Errorf("policy: redecide: no live version: %w", ErrNotFound)
	}
	live, err := s.Compiled(ctx, *st.Live)
	if err != nil {
		return RedecideReport{}, err
	}
	rep := RedecideReport{Version: live.Version()}
	tenants := map[string]bool{}
	err = s.forEachStored(ctx, since, 200, func(page []mustertype.StoredDesign) error {
		for _, sd := range page {
			rep.Designs++
			prev, err := s.designs.LatestVerdict(ctx, sd.Input.DesignID)
			if err != nil && !isNotFound(err) {
				return fmt.Errorf("design %s: latest verdict: %w", sd.Input.DesignID, err)
			}
			if prev.PolicyVersion == live.Version() {
				continue
			}
			dec, err := live.Decide(ctx, sd.Input)
			if err != nil {
				return err
			}
			ch := Change{DesignID: sd.Input.DesignID, TenantID: sd.Input.TenantID, Before: prev.Decision.Outcome(), After: dec.Outcome(), Markets: changedMarkets(prev.Decision, dec), Decision: dec}
			// The stored analyses are reused, so the analyzer, model and
			// bank versions behind them carry over; only the policy changes.
			versions := map[string]string{}
			maps.Copy(versions, prev.Versions)
			versions["policy"] = dec.PolicyVersion
			v, err := s.designs.RecordVerdict(ctx, mustertype.NewVerdict{DesignID: ch.DesignID, Decision: dec, Versions: versions,
				Cause: mustertype.CauseRedecide, Actor: a.Name, Event: "verdict.redecided",
				EventData: map[string]any{"changed_markets": ch.Markets}})
			if err != nil {
				return fmt.Errorf("design %s: write verdict: %w", ch.DesignID, err)
			}
			if v.Cause == mustertype.CauseReview {
				rep.HeldByHuman++
				continue
			}
			ch.VerdictID = v.ID
			rep.Rewritten++
			if len(ch.Markets) == 0 {
				continue
			}
			rep.Changed = append(rep.Changed, ch)
			tenants[ch.TenantID] = true
			if notify != nil {
				if err := notify(ctx, ch); err != nil {
					return fmt.Errorf("design %s: notify: %w", ch.DesignID, err)
				}
			}
		}
		return nil
	})
	rep.Tenants = sortedKeys(tenants)
	if err != nil {
		return rep, fmt.Errorf("policy: redecide: %w", err)
	}
	aerr := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return audit(ctx, tx, "redecide", a, st.Live, map[string]any{"since": since, "designs": rep.Designs, "rewritten": rep.Rewritten, "changed": len(rep.Changed)})
	})
	return rep, aerr
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
