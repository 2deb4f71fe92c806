package policy

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/muster-dev/muster/mustertype"
	"github.com/muster-dev/muster/store"
)

// flakyDesigns is the store with a trap on the n-th page read.
type flakyDesigns struct {
	*store.Store
	calls atomic.Int32
	trap  int32
	// onTrap runs instead of reading the trapped page.
	onTrap func(ctx context.Context)
}

func (f *flakyDesigns) StoredDesigns(ctx context.Context, since, afterAt time.Time, afterID string, limit int) ([]mustertype.StoredDesign, error) {
	if f.calls.Add(1) == f.trap {
		f.onTrap(ctx)
		return nil, ctx.Err()
	}
	return f.Store.StoredDesigns(ctx, since, afterAt, afterID, limit)
}

func marketSummary(r *BacktestResult) string {
	var b strings.Builder
	for _, m := range sortedKeys(r.Markets) {
		fmt.Fprintf(&b, "%s %v %v %v %v;", m, r.Markets[m].Live, r.Markets[m].Draft, r.Markets[m].Changes, r.Markets[m].Samples)
	}
	return fmt.Sprintf("designs %d changed %d: %s", r.Designs, r.Changed, b.String())
}

// TestBacktestJobDurable: a runner that dies mid-job (after its first
// checkpoint, holding the lease) is replaced by another once the lease runs
// out, which resumes from the checkpoint and gets the same result as an
// uninterrupted run; a runner stopped by shutdown gives the job back
// without counting the attempt; a job whose runners keep dying is
// abandoned after max_attempts; a cancelled job is not run; max_designs
// bounds the work.
func TestBacktestJobDurable(t *testing.T) {
	t.Parallel()
	s := setupDB(t)
	s.seedHistory(t)
	if _, err := s.store.SaveDraft(s.ctx, legal, editedDraft(t)); err != nil {
		t.Fatal(err)
	}
	// Reference: one uninterrupted run.
	ref, err := s.store.StartBacktest(s.ctx, legal, 30)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.store.RunBacktest(s.ctx, ref); err != nil {
		t.Fatal(err)
	}
	want, _ := s.store.Backtest(s.ctx, ref)

	crashAfterFirstPage := func() *Store {
		fd := &flakyDesigns{Store: store.New(s.pool), trap: 2, onTrap: func(context.Context) { runtime.Goexit() }}
		return NewStore(s.pool, fd, Config{})
	}
	small := BacktestConfig{PageSize: 5, Lease: 300 * time.Millisecond, Owner: "doomed"}.WithDefaults()

	// 1. The runner dies after checkpointing 5 designs, lease held.
	id, _ := s.store.StartBacktest(s.ctx, legal, 30)
	done := make(chan struct{})
	go func() { defer close(done); _, _ = crashAfterFirstPage().runNext(s.ctx, small, id) }()
	<-done
	b, _ := s.store.Backtest(s.ctx, id)
	if b.Status != BacktestRunning || b.Done != 5 || b.Total != 12 || b.Attempts != 1 || b.LeaseOwner != "doomed" {
		t.Fatalf("after the crash: %+v", b)
	}
	// A runner started now finds nothing claimable until the lease is over.
	if err := s.store.RunBacktest(s.ctx, id); !errors.Is(err, ErrConflict) {
		t.Fatalf("claim under a live lease: %v", err)
	}
	ctx, cancel := context.WithCancel(s.ctx)
	runner := s.store.NewJobRunner(BacktestConfig{PageSize: 5, Poll: 50 * time.Millisecond, Owner: "heir"})
	stopped := make(chan struct{})
	go func() { defer close(stopped); _ = runner.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for b.Status != BacktestDone && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		b, _ = s.store.Backtest(s.ctx, id)
	}
	cancel()
	<-stopped
	if b.Status != BacktestDone || b.Attempts != 2 || b.Done != 12 || b.LeaseOwner != "" {
		t.Fatalf("resumed job: %+v", b)
	}
	if got, w := marketSummary(b.Result), marketSummary(want.Result); got != w {
		t.Fatalf("resumed result differs:\n got %s\nwant %s", got, w)
	}

	// 2. Shutdown mid-job: back in the queue, attempt not counted.
	id, _ = s.store.StartBacktest(s.ctx, legal, 30)
	sctx, stop := context.WithCancel(s.ctx)
	fd := &flakyDesigns{Store: store.New(s.pool), trap: 2, onTrap: func(ctx context.Context) { stop(); <-ctx.Done() }}
	if _, err := NewStore(s.pool, fd, Config{}).runNext(sctx, small, id); err != nil {
		t.Fatal(err)
	}
	b, _ = s.store.Backtest(s.ctx, id)
	if b.Status != BacktestQueued || b.Attempts != 0 || b.Done != 5 || b.LeaseOwner != "" {
		t.Fatalf("after shutdown: %+v", b)
	}
	if err := s.store.RunBacktest(s.ctx, id); err != nil {
		t.Fatal(err)
	}
	b, _ = s.store.Backtest(s.ctx, id)
	if b.Status != BacktestDone || marketSummary(b.Result) != marketSummary(want.Result) {
		t.Fatalf("after resuming a released job: %+v", b)
	}

	// 3. Runners keep dying: abandoned after max_attempts.
	id, _ = s.store.StartBacktest(s.ctx, legal, 30)
	if _, err := s.pool.Exec(s.ctx, `UPDATE policy_backtests SET max_attempts = 1 WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	done = make(chan struct{})
	go func() { defer close(done); _, _ = crashAfterFirstPage().runNext(s.ctx, small, id) }()
	<-done
	if _, err := s.pool.Exec(s.ctx, `UPDATE policy_backtests SET lease_until = now() - interval '1 second' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if err := s.store.RunBacktest(s.ctx, id); err == nil || !strings.Contains(err.Error(), "abandoned after 1 attempts") {
		t.Fatalf("abandoned job: %v", err)
	}

	// 4. Cancelled before it ran.
	id, _ = s.store.StartBacktest(s.ctx, legal, 30)
	if err := s.store.CancelBacktest(s.ctx, reviewer, id); !errors.Is(err, ErrForbidden) {
		t.Fatalf("reviewer cancels: %v", err)
	}
	if err := s.store.CancelBacktest(s.ctx, legal, id); err != nil {
		t.Fatal(err)
	}
	if err := s.store.RunBacktest(s.ctx, id); !errors.Is(err, ErrConflict) {
		t.Fatalf("run a cancelled job: %v", err)
	}
	if b, _ := s.store.Backtest(s.ctx, id); b.Status != BacktestCancelled || b.CancelledBy != legal.Name {
		t.Fatalf("cancelled: %+v", b)
	}

	// 5. Bounded.
	id, _ = s.store.QueueBacktest(s.ctx, legal, BacktestRequest{Days: 30, MaxDesigns: 5})
	if err := s.store.RunBacktest(s.ctx, id); err != nil {
		t.Fatal(err)
	}
	if b, _ := s.store.Backtest(s.ctx, id); b.Total != 5 || b.Result.Designs != 5 || !b.Result.Truncated {
		t.Fatalf("bounded: %+v %+v", b, b.Result)
	}
	list, err := s.store.Backtests(s.ctx, 10)
	if err != nil || len(list) != 6 || list[0].ID != id || list[0].Result != nil {
		t.Fatalf("list: %d %v", len(list), err)
	}
}
