package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/muster-dev/muster/internal/pgtest"
	"github.com/muster-dev/muster/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type bundle struct {
	ctx    context.Context
	pool   *pgxpool.Pool
	st     *store.Store
	tenant string
}

func setup(t *testing.T) bundle {
	t.Helper()
	ctx := t.Context()
	pool := pgtest.New(t)
	st := store.New(pool)
	ten, _, err := st.CreateTenant(ctx, "acme", "")
	if err != nil {
		t.Fatal(err)
	}
	return bundle{ctx: ctx, pool: pool, st: st, tenant: ten.ID}
}

func (b bundle) record(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		if err := b.st.AppendEvent(b.ctx, b.tenant, "", "test.event", "tester", map[string]any{"i": i, "note": "é"}); err != nil {
			t.Fatal(err)
		}
	}
}

// tamper runs sql as a superuser would: with the events guard disabled.
func (b bundle) tamper(t *testing.T, sql string) {
	t.Helper()
	if _, err := b.pool.Exec(b.ctx, `ALTER TABLE events DISABLE TRIGGER events_no_change; `+sql+`; ALTER TABLE events ENABLE TRIGGER events_no_change`); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyEventsDetectsTampering(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		sql     string // applied after 6 events were chained
		brokeAt int64
	}{
		{"edited data", `UPDATE events SET data = '{"i": 99}' WHERE chain_id = 3`, 3},
		{"edited actor", `UPDATE events SET actor = 'someone-else' WHERE chain_id = 2`, 2},
		{"edited time", `UPDATE events SET created_at = created_at + interval '1 second' WHERE chain_id = 1`, 1},
		{"deleted middle row", `DELETE FROM events WHERE chain_id = 4`, 4},
		{"deleted last row", `DELETE FROM events WHERE chain_id = 6`, 6},
		{"edited and rehashed row", `UPDATE events SET data = '{"i": 99}', hash = sha256(hash) WHERE chain_id = 2`, 2},
		{"reordered rows", `UPDATE events SET chain_id = -chain_id WHERE chain_id IN (2, 5); UPDATE events SET chain_id = CASE chain_id WHEN -2 THEN 5 ELSE 2 END WHERE chain_id IN (-2, -5)`, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.record(t, 6)
			rep, err := b.st.VerifyEvents(b.ctx)
			if err != nil || !rep.OK || rep.Rows != 6 || rep.LastID != 6 || rep.Head == "" {
				t.Fatalf("before tampering: %+v, %v", rep, err)
			}
			b.tamper(t, tc.sql)
			rep, err = b.st.VerifyEvents(b.ctx)
			var ce *store.EventChainError
			if !errors.As(err, &ce) || !errors.Is(err, store.ErrEventChainBroken) {
				t.Fatalf("after tampering: got %+v, %v; want an *EventChainError", rep, err)
			}
			if ce.ChainID != tc.brokeAt || rep.OK || rep.BrokenAt != tc.brokeAt {
				t.Fatalf("broken at %d (report %d), want %d: %v", ce.ChainID, rep.BrokenAt, tc.brokeAt, err)
			}
		})
	}
}

func TestEventsGuardRefusesChanges(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.record(t, 2)
	if _, err := b.st.ChainEvents(b.ctx); err != nil {
		t.Fatal(err)
	}
	b.record(t, 1) // one unchained row
	for _, sql := range []string{
		`UPDATE events SET data = '{}' WHERE chain_id = 1`,
		`UPDATE events SET chain_id = 10, prev_hash = '\x00', hash = '\x00' WHERE chain_id IS NULL`,
		`DELETE FROM events WHERE chain_id = 2`,
		`DELETE FROM events WHERE chain_id IS NULL`,
	} {
		if _, err := b.pool.Exec(b.ctx, sql); err == nil {
			t.Errorf("%s: allowed, want refused", sql)
		}
	}
	if rep, err := b.st.VerifyEvents(b.ctx); err != nil || rep.Rows != 3 {
		t.Fatalf("%+v, %v", rep, err)
	}
}

func TestConcurrentEventsAreAllChained(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, cancel := context.WithCancel(b.ctx)
	var chainers sync.WaitGroup
	for range 2 { // two processes' chainers take turns
		chainers.Go(func() { _ = b.st.RunEventChainer(ctx, nil) })
	}
	const writers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if err := b.st.AppendEvent(b.ctx, b.tenant, "", "test.concurrent", fmt.Sprintf("w%d", w), map[string]int{"i": i}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	cancel()
	chainers.Wait() // each chains once more on the way out
	var unchained int
	if err := b.pool.QueryRow(b.ctx, `SELECT count(*) FROM events WHERE chain_id IS NULL`).Scan(&unchained); err != nil {
		t.Fatal(err)
	}
	if unchained != 0 {
		t.Fatalf("%d events left unchained after the chainers stopped", unchained)
	}
	rep, err := b.st.VerifyEvents(b.ctx)
	if err != nil || rep.Rows != writers*each || rep.LastID != writers*each {
		t.Fatalf("%+v, %v; want %d chained rows", rep, err, writers*each)
	}
}

// TestChainerUsesItsIndexUnderStaleStatistics: statistics taken while every
// event was unchained (after a bulk load, before autovacuum's next ANALYZE)
// must not make the chainer's "anything unchained?" check and its work list
// scan the whole event log: both go through the partial index of unchained
// rows, so a chainer call on a chained log costs a few index pages.
func TestChainerUsesItsIndexUnderStaleStatistics(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if _, err := b.pool.Exec(b.ctx, `INSERT INTO events (tenant_id, type, actor, data)
		SELECT $1, 'bulk.event', 'tester', jsonb_build_object('i', i) FROM generate_series(1, 20000) i`, b.tenant); err != nil {
		t.Fatal(err)
	}
	if _, err := b.pool.Exec(b.ctx, `ANALYZE events`); err != nil {
		t.Fatal(err)
	}
	for {
		var n int
		if err := b.pool.QueryRow(b.ctx, `SELECT events_chain(10000)`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	tests := []struct {
		name    string
		pending int // events appended after the log was chained
	}{
		{"nothing to chain", 0},
		{"a few new events", 3},
	}
	for _, tc := range tests {
		b.record(t, tc.pending)
		tx, err := b.pool.Begin(b.ctx)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		var seq int64
		if err := tx.QueryRow(b.ctx, `SELECT events_chain(100)`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if err := tx.QueryRow(b.ctx, `SELECT coalesce(seq_scan, 0) FROM pg_stat_xact_user_tables WHERE relname = 'events'`).Scan(&seq); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(b.ctx); err != nil {
			t.Fatal(err)
		}
		if n != tc.pending || seq != 0 {
			t.Errorf("%s: chained %d (want %d) with %d sequential scans of events (want 0)", tc.name, n, tc.pending, seq)
		}
	}
}
