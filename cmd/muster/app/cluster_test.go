package app_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/muster-dev/muster/analyzers"
	"github.com/muster-dev/muster/analyzers/hashing"
	"github.com/muster-dev/muster/cmd/muster/app"
	"github.com/muster-dev/muster/internal/natstest"
	"github.com/muster-dev/muster/internal/pgtest"
	"github.com/muster-dev/muster/policy"
	"github.com/muster-dev/muster/queue"
	"github.com/muster-dev/muster/store"
)

// TestClusterLeaderLoss is the short version of make soak: a 3-node
// JetStream cluster with R3 streams; the work stream's leader node is
// stopped while designs are uploaded, and every accepted design is still
// decided exactly once.
func TestClusterLeaderLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster formation takes a few seconds")
	}
	t.Parallel()
	t0 := time.Now()
	c := natstest.NewCluster(t, 3)
	t.Logf("cluster up after %s", time.Since(t0))
	b := &bundle{t: t, pool: pgtest.New(t), nc: c.Connect()}
	b.st = store.New(b.pool)
	ctx := context.Background()
	ten, _, err := b.st.CreateTenant(ctx, "acme", "")
	if err != nil {
		t.Fatal(err)
	}
	b.tenantID = ten.ID
	if b.key, _, err = b.st.CreateKey(ctx, ten.ID, store.RoleMerchant, "test"); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b.url = "http://" + ln.Addr().String()
	qc := testQueue()
	qc.Replicas = 3
	qc.AckWait = 5 * time.Second
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	b.start(app.Options{Config: testConfig(), Analyzers: []analyzers.Analyzer{hashing.Analyzer{}}, Decider: policy.AllowAll{},
		Serve: true, Work: true, Listener: ln, QueueConfig: qc, Logger: logger})

	// submit retries like a client while the cluster elects a new leader.
	submit := func(n int) string {
		deadline := time.Now().Add(30 * time.Second)
		h := map[string]string{"Idempotency-Key": "cluster-" + string(rune('a'+n%26)) + string(rune('a'+n/26))}
		for {
			r := b.submit(shirt(pngOf(t, 2000+n)), "", h)
			if r.status == http.StatusCreated || r.status == http.StatusOK {
				return r.design.ID
			}
			if time.Now().After(deadline) {
				t.Fatalf("design %d never accepted: %d %+v", n, r.status, r.err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	t.Logf("pipeline up after %s", time.Since(t0))
	var ids []string
	for i := range 10 {
		ids = append(ids, submit(i))
	}
	q := b.queue(t)
	s, err := q.JetStream().Stream(ctx, queue.StreamDesigns)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil || info.Cluster == nil || info.Cluster.Leader == "" || len(info.Cluster.Replicas) != 2 {
		t.Fatalf("stream not replicated on the cluster: %v %+v", err, info.Cluster)
	}
	t.Logf("10 accepted after %s", time.Since(t0))
	restart := c.Stop(info.Cluster.Leader)
	for i := 10; i < 20; i++ {
		ids = append(ids, submit(i))
	}
	t.Logf("20 accepted after %s", time.Since(t0))
	restart()
	deadline := time.Now().Add(60 * time.Second)
	for b.count(`SELECT count(*) FROM designs WHERE id = ANY($1::uuid[]) AND status = 'decided'`, ids) != len(ids) {
		if time.Now().After(deadline) {
			// Say where the undecided designs stand, for a failure seen
			// once in four fresh-clone runs and not reproduced since.
			var where string
			if err := b.pool.QueryRow(ctx, `SELECT coalesce(string_agg(status::text || ' ' || n::text, ', '), '') FROM
				(SELECT status, count(*) AS n FROM designs WHERE id = ANY($1::uuid[]) GROUP BY status) s`, ids).Scan(&where); err != nil {
				t.Fatal(err)
			}
			diagnoseCluster(t, b, q, ids)
			t.Logf("pipeline log:\n%s", logs.String())
			t.Fatalf("timed out after 1m0s waiting for every design decided (after %s): %s", time.Since(t0), where)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := b.count(`SELECT count(*) FROM verdicts`); n != len(ids) {
		t.Fatalf("%d verdicts for %d designs", n, len(ids))
	}
}

// syncBuffer is a bytes.Buffer safe for the pipeline's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// diagnoseCluster logs where undecided designs are: the outbox, the work
// stream and its consumers.
func diagnoseCluster(t *testing.T, b *bundle, q *queue.Queue, ids []string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var unsent int
	_ = b.pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE sent_at IS NULL`).Scan(&unsent)
	t.Logf("outbox unsent: %d", unsent)
	rows, err := b.pool.Query(ctx, `SELECT id::text, status::text, created_at FROM designs WHERE id = ANY($1::uuid[]) AND status <> 'decided'`, ids)
	if err == nil {
		for rows.Next() {
			var id, st string
			var at time.Time
			_ = rows.Scan(&id, &st, &at)
			t.Logf("undecided: %s %s created %s", id, st, at.Format(time.RFC3339Nano))
		}
		rows.Close()
	}
	s, err := q.JetStream().Stream(ctx, queue.StreamDesigns)
	if err != nil {
		t.Logf("stream: %v", err)
		return
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Logf("stream info: %v", err)
		return
	}
	t.Logf("stream: msgs %d first %d last %d leader %s", info.State.Msgs, info.State.FirstSeq, info.State.LastSeq, info.Cluster.Leader)
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err == nil {
			t.Logf("stream msg %d %s %s", seq, m.Subject, m.Data)
		}
	}
	cs := s.ListConsumers(ctx)
	for ci := range cs.Info() {
		t.Logf("consumer %s: pending %d ackpending %d redelivered %d waiting %d delivered %d/%d ackfloor %d/%d leader %s",
			ci.Name, ci.NumPending, ci.NumAckPending, ci.NumRedelivered, ci.NumWaiting,
			ci.Delivered.Consumer, ci.Delivered.Stream, ci.AckFloor.Consumer, ci.AckFloor.Stream, ci.Cluster.Leader)
	}
}
