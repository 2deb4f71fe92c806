package policy

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/muster-dev/muster/mustertype"
	"github.com/muster-dev/muster/store"
)

// trapDesigns is the store with traps: after the n-th verdict it records
// (committed), or on the n-th page read.
type trapDesigns struct {
	*store.Store
	verdicts, pages       atomic.Int32
	trapVerdict, trapPage int32
	onTrap                func(ctx context.Context)
}

func (d *trapDesigns) RecordVerdict(ctx context.Context, nv mustertype.NewVerdict) (mustertype.Verdict, error) {
	v, err := d.Store.RecordVerdict(ctx, nv)
	if err == nil && d.verdicts.Add(1) == d.trapVerdict {
		d.onTrap(ctx)
	}
	return v, err
}

func (d *trapDesigns) StoredDesigns(ctx context.Context, since, afterAt time.Time, afterID string, limit int) ([]mustertype.StoredDesign, error) {
	if d.pages.Add(1) == d.trapPage {
		d.onTrap(ctx)
		return nil, ctx.Err()
	}
	return d.Store.StoredDesigns(ctx, since, afterAt, afterID, limit)
}

func (d *trapDesigns) StoredDesignsWithEntry(ctx context.Context, tenantID, bank, entryID string, afterAt time.Time, afterID string, limit int) ([]mustertype.StoredDesign, error) {
	if d.pages.Add(1) == d.trapPage {
		d.onTrap(ctx)
		return nil, ctx.Err()
	}
	return d.Store.StoredDesignsWithEntry(ctx, tenantID, bank, entryID, afterAt, afterID, limit)
}

// licences is a switchable licence source.
type licences struct{ allowed atomic.Bool }

func (l *licences) Allowed(context.Context, string, string, string, time.Time) (bool, error) {
	return l.allowed.Load(), nil
}

// TestRedecisionJobDurable: re-decisions are durable jobs. A runner killed
// mid-page (after it recorded verdicts past its last checkpoint) is
// replaced by another after its lease, which resumes at the checkpoint and
// writes no verdict twice; a re-run writes nothing; a runner stopped by
// shutdown gives the job back without counting the attempt; licence jobs
// read the licence when they run, are de-duplicated while queued, and turn
// the licensee's blocks into allows and back.
func TestRedecisionJobDurable(t *testing.T) {
	t.Parallel()
	s := setupDB(t)
	lic := &licences{}
	s.store = NewStore(s.pool, store.New(s.pool), Config{Licences: lic})
	tenantA, _ := s.seedHistory(t)
	if _, err := s.store.SaveDraft(s.ctx, admin, editedDraft(t)); err != nil {
		t.Fatal(err)
	}
	pv, err := s.store.Publish(s.ctx, legal, PublishRequest{Note: "higher trademark threshold"})
	if err != nil {
		t.Fatal(err)
	}
	since := time.Now().Add(-30 * 24 * time.Hour)
	small := BacktestConfig{PageSize: 5, Lease: 300 * time.Millisecond, Owner: "doomed"}.WithDefaults()
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := s.pool.QueryRow(s.ctx, q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	waitDone := func(id int64, runner *JobRunner) Redecision {
		t.Helper()
		ctx, cancel := context.WithCancel(s.ctx)
		stopped := make(chan struct{})
		go func() { defer close(stopped); _ = runner.Run(ctx) }()
		defer func() { cancel(); <-stopped }()
		deadline := time.Now().Add(15 * time.Second)
		for {
			j, err := s.store.Redecision(s.ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if j.Finished() || time.Now().After(deadline) {
				return j
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	// 1. Killed after its 7th verdict: page 1 (5 designs) checkpointed,
	// designs 6 and 7 recorded after it.
	j, err := s.store.QueueRedecide(s.ctx, legal, since)
	if err != nil || j.Status != BacktestQueued || j.Kind != RedecidePolicy {
		t.Fatalf("queue: %+v %v", j, err)
	}
	if again, _ := s.store.QueueRedecide(s.ctx, legal, since); again.ID != j.ID {
		t.Fatalf("a second identical request while one waits queued %d, want %d", again.ID, j.ID)
	}
	td := &trapDesigns{Store: store.New(s.pool), trapVerdict: 7, onTrap: func(context.Context) { runtime.Goexit() }}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = NewStore(s.pool, td, Config{}).runNextRedecision(s.ctx, small, j.ID, nil)
	}()
	<-done
	j, _ = s.store.Redecision(s.ctx, j.ID)
	if j.Status != BacktestRunning || j.Done != 5 || j.Total != 12 || j.Attempts != 1 || j.LeaseOwner != "doomed" || j.Version != pv.Name() {
		t.Fatalf("after the crash: %+v", j)
	}
	if n := count(`SELECT count(*) FROM verdicts WHERE cause = 'redecide'`); n != 7 {
		t.Fatalf("%d re-decided verdicts after the crash, want 7", n)
	}
	// A runner started now finds nothing claimable until the lease is over.
	if _, err := s.store.RunRedecision(s.ctx, j.ID, nil); !errors.Is(err, ErrConflict) {
		t.Fatalf("claim under a live lease: %v", err)
	}
	j = waitDone(j.ID, s.store.NewJobRunner(BacktestConfig{PageSize: 5, Poll: 50 * time.Millisecond, Owner: "heir"}))
	if j.Status != BacktestDone || j.Attempts != 2 || j.Done != 12 || j.LeaseOwner != "" || j.Rewritten != 10 {
		t.Fatalf("resumed job: %+v", j)
	}
	if n := count(`SELECT count(*) FROM verdicts WHERE cause = 'redecide' AND policy_version = $1`, pv.Name()); n != 12 {
		t.Fatalf("%d re-decided verdicts, want 12: one per design, none twice", n)
	}
	if n := count(`SELECT count(*) FROM (SELECT design_id FROM verdicts WHERE cause = 'redecide' GROUP BY design_id HAVING count(*) > 1) x`); n != 0 {
		t.Fatalf("%d designs re-decided twice", n)
	}
	// Announced through the outbox, committed with each changed verdict.
	if n := count(`SELECT count(*) FROM outbox WHERE topic = 'verdict.event' AND payload->>'type' = 'verdict.changed'`); n != 7 {
		t.Errorf("%d verdict.changed in the outbox, want 7", n)
	}

	// 2. A re-run is a no-op.
	again, err := s.store.Redecide(s.ctx, legal, since, nil)
	if err != nil || again.Rewritten != 0 || len(again.Changed) != 0 || again.Designs != 12 {
		t.Fatalf("re-run: %+v %v", again, err)
	}

	// 3. Shutdown mid-job: back in the queue at its checkpoint, the
	// attempt not counted.
	j, _ = s.store.QueueRedecide(s.ctx, legal, since)
	sctx, stop := context.WithCancel(s.ctx)
	td = &trapDesigns{Store: store.New(s.pool), trapPage: 2, onTrap: func(ctx context.Context) { stop(); <-ctx.Done() }}
	if _, err := NewStore(s.pool, td, Config{}).runNextRedecision(sctx, small, j.ID, nil); err != nil {
		t.Fatal(err)
	}
	j, _ = s.store.Redecision(s.ctx, j.ID)
	if j.Status != BacktestQueued || j.Attempts != 0 || j.Done != 5 || j.LeaseOwner != "" {
		t.Fatalf("after shutdown: %+v", j)
	}
	if j, err = s.store.RunRedecision(s.ctx, j.ID, nil); err != nil || j.Status != BacktestDone || j.Done != 12 {
		t.Fatalf("after resuming a released job: %+v %v", j, err)
	}

	// 4. A licence granted: tenant A's designs with the acme mark (blocked
	// or in review in the US) are re-decided with the licence; killed after its first
	// page, resumed.
	usOutcomes := func() map[string]int {
		t.Helper()
		rows, err := s.pool.Query(s.ctx, `SELECT m->>'outcome', count(*) FROM designs d
			CROSS JOIN LATERAL (SELECT decision FROM verdicts v WHERE v.design_id = d.id ORDER BY id DESC LIMIT 1) v
			CROSS JOIN LATERAL jsonb_array_elements(v.decision->'markets') m
			WHERE d.tenant_id = $1 AND m->>'market' = 'US' AND EXISTS (SELECT 1 FROM findings f WHERE f.design_id = d.id AND f.entry_id = 'acme')
			GROUP BY 1`, tenantA)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		var o string
		var n int
		for rows.Next() {
			if err := rows.Scan(&o, &n); err != nil {
				t.Fatal(err)
			}
			out[o] = n
		}
		return out
	}
	before := usOutcomes()
	if before[Block]+before[Review] != 7 {
		t.Fatalf("before the licence: %v, want 7 blocked or in review", before)
	}
	lic.allowed.Store(true)
	j, err = s.store.QueueLicenceRedecision(s.ctx, legal, tenantA, "simple-icons", "acme")
	if err != nil {
		t.Fatal(err)
	}
	if dup, _ := s.store.QueueLicenceRedecision(s.ctx, legal, tenantA, "simple-icons", "acme"); dup.ID != j.ID {
		t.Fatalf("licence job queued twice: %d and %d", j.ID, dup.ID)
	}
	crashStore := NewStore(s.pool, &trapDesigns{Store: store.New(s.pool), trapPage: 2, onTrap: func(context.Context) { runtime.Goexit() }}, Config{Licences: lic})
	done = make(chan struct{})
	go func() {
		defer close(done)
		_, _ = crashStore.runNextRedecision(s.ctx, BacktestConfig{PageSize: 3, Lease: 200 * time.Millisecond, Owner: "doomed"}.WithDefaults(), j.ID, nil)
	}()
	<-done
	if j, _ = s.store.Redecision(s.ctx, j.ID); j.Status != BacktestRunning || j.Done != 3 || j.Total != 7 || j.Changed != 3 {
		t.Fatalf("licence job after the crash: %+v", j)
	}
	j = waitDone(j.ID, s.store.NewJobRunner(BacktestConfig{PageSize: 3, Poll: 50 * time.Millisecond}))
	if j.Status != BacktestDone || j.Done != 7 || j.Changed != 7 || len(j.Changes) != 7 || j.Tenants[0] != tenantA {
		t.Fatalf("licence job: %+v", j)
	}
	if got := usOutcomes(); got[Allow] != 7 {
		t.Fatalf("after the licence: %v, want 7 allowed", got)
	}
	if n := count(`SELECT count(*) FROM events WHERE type = 'verdict.licence_granted'`); n != 7 {
		t.Errorf("%d licence_granted events, want 7", n)
	}
	// 5. Revoked: in review again; a re-run changes nothing.
	lic.allowed.Store(false)
	j, _ = s.store.QueueLicenceRedecision(s.ctx, legal, tenantA, "simple-icons", "acme")
	if j, err = s.store.RunRedecision(s.ctx, j.ID, nil); err != nil || j.Changed != 7 {
		t.Fatalf("revoke: %+v %v", j, err)
	}
	if got := usOutcomes(); got[Review] != 7 {
		t.Fatalf("after revoking: %v, want 7 in review (the live version's threshold)", got)
	}
	j, _ = s.store.QueueLicenceRedecision(s.ctx, legal, tenantA, "simple-icons", "acme")
	if j, err = s.store.RunRedecision(s.ctx, j.ID, nil); err != nil || j.Changed != 0 || j.Rewritten != 0 {
		t.Fatalf("re-run: %+v %v", j, err)
	}
	// Tenant-scoped listing; cancelling a finished job is a conflict.
	if js, err := s.store.Redecisions(s.ctx, tenantA, 10); err != nil || len(js) != 3 {
		t.Fatalf("tenant A's jobs: %d %v", len(js), err)
	}
	if err := s.store.CancelRedecision(s.ctx, legal, j.ID); !errors.Is(err, ErrConflict) {
		t.Fatalf("cancel a finished job: %v", err)
	}
	if _, err := s.store.QueueRedecide(s.ctx, reviewer, since); !errors.Is(err, ErrForbidden) {
		t.Fatalf("a reviewer queues a re-decision: %v", err)
	}
}
