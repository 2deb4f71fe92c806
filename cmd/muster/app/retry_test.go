package app_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/muster-dev/muster/analyzers"
	"github.com/muster-dev/muster/analyzers/hashing"
	"github.com/muster-dev/muster/cmd/muster/app"
	"github.com/muster-dev/muster/internal/metrics"
	"github.com/muster-dev/muster/internal/natstest"
	"github.com/muster-dev/muster/internal/pgtest"
	"github.com/muster-dev/muster/policy"
	"github.com/muster-dev/muster/queue"
	"github.com/muster-dev/muster/store"
	"github.com/muster-dev/muster/workers"
)

// faultyBlobs injects faults into the worker's reads of the real object
// store, per blob: "down" (the object store times out, its info too: an
// outage), "unreadable" (the info answers, the bytes do not match their
// digest), "stall-once" (the next read hangs until its context ends, as
// reads did after a cluster node's return; later reads work), or nothing.
type faultyBlobs struct {
	workers.BlobReader
	mu    sync.Mutex
	mode  map[string]string
	reads map[string]int
}

func (f *faultyBlobs) set(sha, mode string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mode[sha] = mode
}

func (f *faultyBlobs) failedReads(sha string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reads[sha]
}

func (f *faultyBlobs) GetBlob(ctx context.Context, sha string) ([]byte, error) {
	f.mu.Lock()
	mode := f.mode[sha]
	if mode != "" {
		f.reads[sha]++
	}
	f.mu.Unlock()
	switch mode {
	case "stall-once":
		f.set(sha, "")
		<-ctx.Done()
		return nil, fmt.Errorf("get blob %s: %w", sha, ctx.Err())
	case "down":
		return nil, fmt.Errorf("get blob %s: %w", sha, nats.ErrTimeout)
	case "unreadable":
		return nil, fmt.Errorf("get blob %s: %w", sha, jetstream.ErrDigestMismatch)
	}
	return f.BlobReader.GetBlob(ctx, sha)
}

func (f *faultyBlobs) HasBlob(ctx context.Context, sha string) (bool, error) {
	f.mu.Lock()
	mode := f.mode[sha]
	f.mu.Unlock()
	if mode == "down" {
		return false, nats.ErrTimeout
	}
	return f.BlobReader.HasBlob(ctx, sha)
}

// setupFaultyBlobs starts a pipeline whose worker reads the object store
// through a faultyBlobs, with fast infrastructure back-off and fetch
// refresh; tune sets the rest of the worker's configuration.
func setupFaultyBlobs(t *testing.T, tune func(*workers.Config)) (*bundle, *faultyBlobs) {
	t.Helper()
	fb := &faultyBlobs{mode: map[string]string{}, reads: map[string]int{}}
	b := setup(t, func(o *app.Options) {
		o.Worker = func(c *workers.Config) {
			fb.BlobReader, c.Blobs = c.Blobs, fb
			c.InfraBackoff, c.InfraBackoffMax = 20*time.Millisecond, 100*time.Millisecond
			c.FetchRefresh = 50 * time.Millisecond
			tune(c)
		}
	})
	return b, fb
}

// TestInfrastructureFailuresDoNotUseUpAttempts (issue 12): an object store
// unavailable for far more deliveries than MaxDeliver does not dead-letter
// a design — it is decided, analysed once, when the store is back; an
// outage longer than the infrastructure budget dead-letters it with that
// reason (failed, never allowed); an unreadable blob is its own failure
// reason, dead-lettered after its own budget.
func TestInfrastructureFailuresDoNotUseUpAttempts(t *testing.T) {
	t.Parallel()
	b, fb := setupFaultyBlobs(t, func(c *workers.Config) {
		c.InfraRetryBudget, c.UnreadableBlobBudget = 4*time.Second, time.Second
	})
	maxDeliver := testQueue().MaxDeliver

	// 1. Down for 4× MaxDeliver reads, then back: decided, one analysis.
	img := pngOf(t, 4401)
	fb.set(sha(img), "down")
	r := b.submit(shirt(img), "", nil)
	if r.status != 201 && r.status != 202 {
		t.Fatalf("submit: %d %+v", r.status, r.err)
	}
	for deadline := time.Now().Add(10 * time.Second); fb.failedReads(sha(img)) < 4*maxDeliver; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d failed reads", fb.failedReads(sha(img)))
		}
	}
	if d, _ := b.st.DesignByID(t.Context(), r.design.ID); d.Status == store.StatusFailed || d.Attempts != 0 {
		t.Fatalf("during the outage: status %s, %d analysis attempts (reason %q)", d.Status, d.Attempts, d.FailureReason)
	}
	fb.set(sha(img), "")
	d := waitFinal(t, b, r.design.ID)
	if d.Status != store.StatusDecided || d.Attempts != 1 {
		t.Fatalf("after the outage: status %s, %d analysis attempts, reason %q; want decided after one", d.Status, d.Attempts, d.FailureReason)
	}
	if n := b.count(`SELECT count(*) FROM analyses WHERE design_id = $1`, r.design.ID); n != 1 {
		t.Fatalf("%d analyses stored", n)
	}

	// 2. Down for longer than the budget: failed with the reason, no verdict.
	img = pngOf(t, 4402)
	fb.set(sha(img), "down")
	r = b.submit(shirt(img), "", nil)
	d = waitFinal(t, b, r.design.ID)
	if d.Status != store.StatusFailed || !strings.HasPrefix(d.FailureReason, "infrastructure: still failing after") {
		t.Fatalf("a long outage: status %s, reason %q", d.Status, d.FailureReason)
	}
	if n := b.count(`SELECT count(*) FROM verdicts WHERE design_id = $1`, r.design.ID); n != 0 {
		t.Fatalf("a design never analysed has %d verdicts", n)
	}

	// 3. Unreadable bytes: their own reason, their own budget.
	img = pngOf(t, 4403)
	fb.set(sha(img), "unreadable")
	r = b.submit(shirt(img), "", nil)
	d = waitFinal(t, b, r.design.ID)
	if d.Status != store.StatusFailed || !strings.HasPrefix(d.FailureReason, "blob_unreadable: ") || !strings.Contains(d.FailureReason, "digest") {
		t.Fatalf("unreadable blob: status %s, reason %q", d.Status, d.FailureReason)
	}
	if n := b.count(`SELECT count(*) FROM verdicts WHERE design_id = $1`, r.design.ID); n != 0 {
		t.Fatalf("an unreadable design has %d verdicts", n)
	}
}

// TestStalledBlobReadIsRetried: a read of a design's bytes that hangs (the
// object store after a cluster node's return) is abandoned after
// BlobReadTimeout and retried, so the design is decided within seconds —
// not held while the worker's heartbeat keeps its message from being
// redelivered.
func TestStalledBlobReadIsRetried(t *testing.T) {
	t.Parallel()
	b, fb := setupFaultyBlobs(t, func(c *workers.Config) { c.BlobReadTimeout = 500 * time.Millisecond })
	img := pngOf(t, 4404)
	fb.set(sha(img), "stall-once")
	r := b.submit(shirt(img), "", nil)
	if r.status != 201 && r.status != 202 {
		t.Fatalf("submit: %d %+v", r.status, r.err)
	}
	d := waitFinal(t, b, r.design.ID) // 20 s: well under the old one-minute bound
	if d.Status != store.StatusDecided || d.Attempts != 1 {
		t.Fatalf("after a stalled read: status %s, %d analysis attempts, reason %q; want decided after one", d.Status, d.Attempts, d.FailureReason)
	}
	if n := fb.failedReads(sha(img)); n != 1 {
		t.Fatalf("%d stalled reads, want 1", n)
	}
}

// waitFinal waits for a design to be decided or failed.
func waitFinal(t *testing.T, b *bundle, id string) store.Design {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		d, err := b.st.DesignByID(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status == store.StatusDecided || d.Status == store.StatusFailed || time.Now().After(deadline) {
			return d
		}
	}
}

// TestUnreadableBlobIsStoredAgain (issue 12): an object whose info exists
// but whose bytes cannot be read (its chunks lost, as after an upload that
// straddled a stream leader change) is read back by the next upload of the
// same bytes and stored again, so that design is decided.
func TestUnreadableBlobIsStoredAgain(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *app.Options) {
		qc := *testQueue()
		qc.BlobVerifyTimeout = time.Second
		o.QueueConfig = &qc
	})
	ctx := t.Context()
	img := pngOf(t, 4501)
	first := b.submit(shirt(img), "?wait=20s", nil)
	if first.design.Status != store.StatusDecided {
		t.Fatalf("first upload: %s", first.design.Status)
	}
	// Lose the object's chunks, keep its info.
	js, err := jetstream.New(b.nc)
	if err != nil {
		t.Fatal(err)
	}
	obs, err := js.ObjectStore(ctx, "muster-designs")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(img)
	sha := hex.EncodeToString(sum[:])
	info, err := obs.GetInfo(ctx, sha)
	if err != nil {
		t.Fatal(err)
	}
	stream, err := js.Stream(ctx, "OBJ_muster-designs")
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Purge(ctx, jetstream.WithPurgeSubject("$O.muster-designs.C."+info.NUID)); err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithTimeout(ctx, time.Second)
	_, err = obs.GetBytes(rctx, sha)
	cancel()
	if err == nil {
		t.Fatal("the object is still readable")
	}
	// The same bytes again (other markets: a new design): stored again.
	f := shirt(img)
	f.fields["markets"] = "US"
	again := b.submit(f, "?wait=20s", nil)
	if again.design.Status != store.StatusDecided {
		t.Fatalf("second upload of the same bytes: %s (%q)", again.design.Status, again.design.FailureReason)
	}
	if _, err := obs.GetBytes(ctx, sha); err != nil {
		t.Fatalf("still unreadable: %v", err)
	}
}

// TestSweeperLeavesQueuedBacklogAlone (issue 12, the 10,000-design soak):
// designs waiting behind a long backlog are in the queue; the sweeper must
// not re-submit them (each re-submission after the duplicate window is one
// more message per design for the workers to fetch and drop). A design
// whose message was lost is still re-submitted.
func TestSweeperLeavesQueuedBacklogAlone(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := pgtest.New(t)
	st := store.New(pool)
	q, err := queue.Setup(ctx, natstest.New(t), *testQueue())
	if err != nil {
		t.Fatal(err)
	}
	w, err := workers.New(workers.Config{}, st, q, []analyzers.Analyzer{hashing.Analyzer{}}, policy.AllowAll{}, metrics.New())
	if err != nil {
		t.Fatal(err)
	}
	tn, _, err := st.CreateTenant(ctx, "backlog", "")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 5 {
		var id string
		if err := pool.QueryRow(ctx, `INSERT INTO designs (id, tenant_id, sha256, bytes, width, height, media_type, product, markets, status)
			VALUES (gen_random_uuid(), $1, $2, 10, 1, 1, 'image/png', 'tshirt', '{US}', 'queued') RETURNING id::text`, tn.ID, fmt.Sprintf("%064d", i)).Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	age := func() {
		if _, err := pool.Exec(ctx, `UPDATE designs SET updated_at = now() - interval '1 hour'`); err != nil {
			t.Fatal(err)
		}
	}
	// All five in the queue, behind a backlog: left alone.
	for _, id := range ids {
		if err := q.Submit(ctx, queue.Submitted{DesignID: id, TenantID: tn.ID}); err != nil {
			t.Fatal(err)
		}
	}
	age()
	if n, err := w.ResubmitStale(ctx, time.Minute); err != nil || n != 0 {
		t.Fatalf("queued backlog: %d re-submitted (%v), want 0", n, err)
	}
	// Their messages lost: re-submitted.
	js, _ := jetstream.New(q.Conn())
	s, err := js.Stream(ctx, queue.StreamDesigns)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	age()
	if n, err := w.ResubmitStale(ctx, time.Minute); err != nil || n != 5 {
		t.Fatalf("lost messages: %d re-submitted (%v), want 5", n, err)
	}
	// ...and in the queue again: the duplicate window, which still holds
	// the first submissions' ids, must not have dropped them.
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 5 {
		t.Fatalf("after re-submitting 5 lost messages the stream holds %d", info.State.Msgs)
	}
}
