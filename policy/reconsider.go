package policy

import (
	"context"
	"fmt"
	"maps"

	"github.com/jackc/pgx/v5"

	"github.com/muster-dev/muster/mustertype"
)

// Reconsider re-decides the given stored designs under the live version
// after something outside the analyzers changed their inputs — a licence
// granted or revoked: adjust is applied to each design's input first (nil:
// none). Unlike Redecide it records a verdict (cause "redecide", event
// named by event) for every design whose outcome changes in some market,
// whatever the version, and calls notify (if not nil) after each is
// committed. A design whose latest verdict is a reviewer's decision is left
// as it is: a human decision is never overridden by an automated one; it
// is counted in Held.
func (s *Store) Reconsider(ctx context.Context, a Actor, designs []mustertype.StoredDesign, adjust func(*mustertype.Input), event string,
	notify func(context.Context, Change) error) (ReconsiderReport, error) {
	if err := a.require(RoleLegal, RoleAdmin); err != nil {
		return ReconsiderReport{}, err
	}
	st, err := s.State(ctx)
	if err != nil {
		return ReconsiderReport{}, err
	}
	if st.Live == nil {
		return ReconsiderReport{}, fmt.Errorf("policy: reconsider: no live version: %w", ErrNotFound)
	}
	live, err := s.Compiled(ctx, *st.Live)
	if err != nil {
		return ReconsiderReport{}, err
	}
	rep := ReconsiderReport{Version: live.Version()}
	for _, sd := range designs {
		rep.Designs++
		prev, err := s.designs.LatestVerdict(ctx, sd.Input.DesignID)
		if err != nil && !isNotFound(err) {
			return rep, fmt.Errorf("policy: reconsider %s: latest verdict: %w", sd.Input.DesignID, err)
		}
		if prev.Cause == mustertype.CauseReview {
			rep.Held++
			continue
		}
		in := sd.Input
		if adjust != nil {
			adjust(&in)
		}
		dec, err := live.Decide(ctx, in)
		if err != nil {
			return rep, err
		}
		ch := Change{DesignID: in.DesignID, TenantID: in.TenantID, Before: prev.Decision.Outcome(), After: dec.Outcome(), Markets: changedMarkets(prev.Decision, dec), Decision: dec}
		if len(ch.Markets) == 0 {
			continue
		}
		versions := map[string]string{}
		maps.Copy(versions, prev.Versions)
		versions["policy"] = dec.PolicyVersion
		v, err := s.designs.RecordVerdict(ctx, mustertype.NewVerdict{DesignID: ch.DesignID, Decision: dec, Versions: versions,
			Cause: mustertype.CauseRedecide, Actor: a.Name, Event: event,
			EventData: map[string]any{"changed_markets": ch.Markets}})
		if err != nil {
			return rep, fmt.Errorf("policy: reconsider %s: write verdict: %w", ch.DesignID, err)
		}
		ch.VerdictID = v.ID
		rep.Changed = append(rep.Changed, ch)
		if notify != nil {
			if err := notify(ctx, ch); err != nil {
				return rep, fmt.Errorf("policy: reconsider %s: notify: %w", ch.DesignID, err)
			}
		}
	}
	aerr := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return audit(ctx, tx, "reconsider", a, st.Live, map[string]any{"event": event, "designs": rep.Designs, "changed": len(rep.Changed), "held": rep.Held})
	})
	return rep, aerr
}

// ReconsiderReport summarises a Reconsider run.
type ReconsiderReport struct {
	Version string   `json:"version"`
	Designs int      `json:"designs"`
	Changed []Change `json:"changed"`
	// Held counts designs left alone because a reviewer decided them.
	Held int `json:"held"`
}
