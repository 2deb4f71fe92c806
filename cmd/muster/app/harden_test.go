package app_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/muster-dev/muster/analyzers"
	"github.com/muster-dev/muster/analyzers/hashing"
	"github.com/muster-dev/muster/cmd/muster/app"
	"github.com/muster-dev/muster/internal/config"
	"github.com/muster-dev/muster/policy"
	"github.com/muster-dev/muster/queue"
	"github.com/muster-dev/muster/store"
	"github.com/muster-dev/muster/webhook"
	"github.com/muster-dev/muster/workers"
)

// tenant is a second (third…) tenant of a bundle with its keys.
type tenant struct {
	id, merchant, admin string
}

func (b *bundle) tenant(name string) tenant {
	b.t.Helper()
	ctx := context.Background()
	t, _, err := b.st.CreateTenant(ctx, name, "")
	if err != nil {
		b.t.Fatal(err)
	}
	m, _, err := b.st.CreateKey(ctx, t.ID, store.RoleMerchant, "")
	if err != nil {
		b.t.Fatal(err)
	}
	a, _, err := b.st.CreateKey(ctx, t.ID, store.RoleAdmin, "")
	if err != nil {
		b.t.Fatal(err)
	}
	return tenant{id: t.ID, merchant: m, admin: a}
}

func (b *bundle) submitAs(key string, f form, query string) response {
	body, ct := f.encode()
	return b.do("POST", "/v1/designs"+query, key, body, ct, nil)
}

// fetchJSON GETs base+path with key and decodes a 200 answer into out; it returns
// the status and the response.
func (b *bundle) fetchJSON(base, path, key string, out any) (int, http.Header, []byte) {
	b.t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == 200 && out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			b.t.Fatalf("GET %s: %v in %s", path, err, raw)
		}
	}
	return resp.StatusCode, resp.Header, raw
}

func (b *bundle) waitFor(what string, timeout time.Duration, cond func() bool) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			b.t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// received is one webhook request as a receiver saw it.
type received struct {
	payload webhook.Payload
	header  http.Header
}

// TestWebhookSlowTenantDoesNotDelayOthers: tenant A's receiver hangs; tenant
// B's event, published after six of A's, is delivered while A's receiver is
// still hanging (before: one handler at a time, B waited behind A). A's
// receiver takes longer than the webhook ack deadline; heartbeats keep the
// events from being redelivered, so every event arrives exactly once, with
// the same delivery id in body and header (before: duplicates).
func TestWebhookSlowTenantDoesNotDelayOthers(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *app.Options) {
		qc := testQueue()
		qc.WebhookAckWait = time.Second // A's receiver takes longer than this
		o.QueueConfig = qc
		o.WebhookConfig = &webhook.Config{PerTenant: 2, Concurrency: 8, Timeout: 30 * time.Second, Defer: 300 * time.Millisecond}
	})
	ctx := t.Context()
	release := make(chan struct{})
	var mu sync.Mutex
	var gotA []received
	slowA := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p webhook.Payload
		json.NewDecoder(r.Body).Decode(&p)
		select {
		case <-release:
		case <-time.After(20 * time.Second):
		}
		time.Sleep(2500 * time.Millisecond) // beyond the 1 s ack deadline even after release
		mu.Lock()
		gotA = append(gotA, received{p, r.Header.Clone()})
		mu.Unlock()
	}))
	defer slowA.Close()
	gotB := make(chan received, 4)
	fastB := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p webhook.Payload
		json.NewDecoder(r.Body).Decode(&p)
		gotB <- received{p, r.Header.Clone()}
	}))
	defer fastB.Close()
	tb := b.tenant("tenant-b")
	if _, err := b.st.SetWebhook(ctx, b.tenantID, slowA.URL); err != nil {
		t.Fatal(err)
	}
	if _, err := b.st.SetWebhook(ctx, tb.id, fastB.URL); err != nil {
		t.Fatal(err)
	}
	const nA = 6
	for i := range nA {
		if r := b.submit(shirt(pngOf(t, 500+i)), "?wait=10s", nil); r.design.Status != store.StatusDecided {
			t.Fatalf("A's design %d: %d %s", i, r.status, r.design.Status)
		}
	}
	rb := b.submitAs(tb.merchant, shirt(pngOf(t, 600)), "?wait=10s")
	select {
	case d := <-gotB:
		if d.payload.DesignID != rb.design.ID {
			t.Fatalf("B got %+v", d.payload)
		}
		if d.payload.DeliveryID == "" || d.header.Get(webhook.DeliveryIDHeader) != d.payload.DeliveryID || d.header.Get(webhook.AttemptHeader) != "1" {
			t.Fatalf("B's delivery id: body %q, header %q, attempt %q", d.payload.DeliveryID, d.header.Get(webhook.DeliveryIDHeader), d.header.Get(webhook.AttemptHeader))
		}
	case <-time.After(15 * time.Second):
		t.Fatal("tenant B's webhook waited behind tenant A's hanging receiver")
	}
	close(release)
	b.waitFor("A's six deliveries", 40*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(gotA) >= nA })
	time.Sleep(1500 * time.Millisecond) // a redelivery would arrive within this
	mu.Lock()
	defer mu.Unlock()
	seen := map[string]bool{}
	for _, d := range gotA {
		id := d.payload.DeliveryID
		if id == "" || d.header.Get(webhook.DeliveryIDHeader) != id {
			t.Fatalf("delivery id %q, header %q", id, d.header.Get(webhook.DeliveryIDHeader))
		}
		if seen[id] {
			t.Fatalf("delivery %s arrived twice (%d deliveries for %d events)", id, len(gotA), nA)
		}
		seen[id] = true
	}
	if len(gotA) != nA {
		t.Fatalf("%d deliveries for %d events", len(gotA), nA)
	}
}

// TestWebhookDeliveriesAPI: a tenant reads its delivery attempts, paged,
// and never another tenant's.
func TestWebhookDeliveriesAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	calls := 0
	var mu sync.Mutex
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		first := calls == 1
		mu.Unlock()
		if first {
			http.Error(w, "not yet", http.StatusServiceUnavailable)
		}
	}))
	defer recv.Close()
	if _, err := b.st.SetWebhook(t.Context(), b.tenantID, recv.URL); err != nil {
		t.Fatal(err)
	}
	d := b.submit(shirt(pngOf(t, 700)), "?wait=10s", nil)
	type page struct {
		Deliveries []webhook.Delivery `json:"deliveries"`
		Next       string             `json:"next"`
	}
	var all page
	b.waitFor("two attempts", 30*time.Second, func() bool {
		all = page{}
		b.fetchJSON(b.url, "/v1/webhooks/deliveries", b.adminKey, &all)
		return len(all.Deliveries) >= 2
	})
	last, first := all.Deliveries[0], all.Deliveries[1] // newest first
	if first.StatusCode != 503 || first.Attempt != 1 || last.StatusCode != 200 || last.Attempt != 2 {
		t.Fatalf("attempts %+v", all.Deliveries)
	}
	if first.DeliveryID == "" || first.DeliveryID != last.DeliveryID || last.DesignID != d.design.ID || last.EventType != "verdict.recorded" {
		t.Fatalf("one event, two attempts, one delivery id: %+v", all.Deliveries)
	}
	var p1, p2 page
	b.fetchJSON(b.url, "/v1/webhooks/deliveries?limit=1", b.key, &p1) // merchants may read them too
	if len(p1.Deliveries) != 1 || p1.Next == "" || p1.Deliveries[0].ID != last.ID {
		t.Fatalf("first page %+v", p1)
	}
	b.fetchJSON(b.url, "/v1/webhooks/deliveries?limit=1&before="+p1.Next, b.key, &p2)
	if len(p2.Deliveries) != 1 || p2.Deliveries[0].ID != first.ID {
		t.Fatalf("second page %+v", p2)
	}
	var byDesign page
	b.fetchJSON(b.url, "/v1/webhooks/deliveries?design_id="+d.design.ID, b.key, &byDesign)
	if len(byDesign.Deliveries) != 2 {
		t.Fatalf("by design: %+v", byDesign)
	}
	other := b.tenant("other")
	var theirs page
	if st, _, raw := b.fetchJSON(b.url, "/v1/webhooks/deliveries", other.admin, &theirs); st != 200 || len(theirs.Deliveries) != 0 {
		t.Fatalf("another tenant: %d %s", st, raw)
	}
	for _, q := range []string{"?limit=0", "?limit=x", "?before=-1", "?design_id=nope"} {
		if st, _, raw := b.fetchJSON(b.url, "/v1/webhooks/deliveries"+q, b.key, nil); st != 400 {
			t.Fatalf("%s: %d %s", q, st, raw)
		}
	}
}

// TestAuthorizationMatrix: every role against the routes this part adds or
// guards (401 without a key, 403 for a role not allowed).
func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	keys := map[string]string{"": ""}
	for _, role := range []string{store.RoleMerchant, store.RoleReviewer, store.RoleLegal, store.RoleAdmin} {
		k, _, err := b.st.CreateKey(ctx, b.tenantID, role, role)
		if err != nil {
			t.Fatal(err)
		}
		keys[role] = k
	}
	rows := []struct {
		method, path string
		want         map[string]int // role ("" for none) → status
	}{
		{"GET", "/v1/webhooks/deliveries", map[string]int{"": 401, store.RoleMerchant: 200, store.RoleReviewer: 403, store.RoleLegal: 403, store.RoleAdmin: 200}},
		{"GET", "/v1/designs", map[string]int{"": 401, store.RoleMerchant: 200, store.RoleReviewer: 200, store.RoleLegal: 200, store.RoleAdmin: 200}},
		{"PUT", "/v1/webhook", map[string]int{"": 401, store.RoleMerchant: 403, store.RoleReviewer: 403, store.RoleLegal: 403, store.RoleAdmin: 400}},
		{"POST", "/v1/designs", map[string]int{"": 401, store.RoleMerchant: 415, store.RoleReviewer: 403, store.RoleLegal: 403, store.RoleAdmin: 415}},
	}
	for _, row := range rows {
		for role, want := range row.want {
			req, _ := http.NewRequest(row.method, b.url+row.path, nil)
			if keys[role] != "" {
				req.Header.Set("Authorization", "Bearer "+keys[role])
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("%s %s as %q: %d, want %d", row.method, row.path, role, resp.StatusCode, want)
			}
		}
	}
}

// TestRateLimitAcrossInstances: two API instances share a tenant's bucket
// (it lives in PostgreSQL): the burst spent on one is spent on the other;
// beyond it a 429 in the one error shape with Retry-After. Another tenant,
// on the paid tier, is unaffected.
func TestRateLimitAcrossInstances(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.TierFree = configTier(0.2, 3, 100) // one request every 5 s, bursts of 3
	cfg.TierPaid = configTier(100, 100, 1000)
	b := setup(t, func(o *app.Options) { o.Config = cfg })
	second := b.serveAnother(cfg)
	paid := b.tenant("paid")
	if err := b.st.SetTenantTier(t.Context(), paid.id, store.TierPaid); err != nil {
		t.Fatal(err)
	}
	for i, base := range []string{b.url, second, b.url} {
		if st, _, raw := b.fetchJSON(base, "/v1/designs", b.key, nil); st != 200 {
			t.Fatalf("request %d within the burst: %d %s", i+1, st, raw)
		}
	}
	st, h, raw := b.fetchJSON(second, "/v1/designs", b.key, nil)
	if st != http.StatusTooManyRequests {
		t.Fatalf("fourth request, on the other instance: %d %s (a per-process limiter allows it)", st, raw)
	}
	var e struct {
		Error struct{ Code, Message string }
	}
	json.Unmarshal(raw, &e)
	if e.Error.Code != "rate_limited" || e.Error.Message == "" {
		t.Fatalf("error shape %s", raw)
	}
	if ra, err := strconv.Atoi(h.Get("Retry-After")); err != nil || ra < 1 || ra > 5 {
		t.Fatalf("Retry-After %q", h.Get("Retry-After"))
	}
	for i := range 10 {
		if st, _, raw := b.fetchJSON(second, "/v1/designs", paid.merchant, nil); st != 200 {
			t.Fatalf("paid tenant request %d: %d %s", i, st, raw)
		}
	}
	// Unauthenticated and public routes are not charged to anyone.
	if st, _, _ := b.fetchJSON(b.url, "/healthz", "", nil); st != 200 {
		t.Fatalf("healthz: %d", st)
	}
}

// TestPlatformKeysHaveTheirOwnBuckets: the platform operator's keys are
// limited one by one at the tenant's tier, so one reviewer spending the
// burst does not throttle another; a merchant tenant's keys share one
// bucket.
func TestPlatformKeysHaveTheirOwnBuckets(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.TierFree = configTier(0.2, 2, 100) // one request every 5 s, bursts of 2
	cfg.TierPaid = configTier(0.2, 2, 100)
	b := setup(t, func(o *app.Options) { o.Config = cfg; o.Work = false })
	ctx := t.Context()
	plat, _, err := b.st.CreatePlatformTenant(ctx, "platform", "")
	if err != nil {
		t.Fatal(err)
	}
	alice, _, err := b.st.CreateKey(ctx, plat.ID, store.RoleReviewer, "alice")
	if err != nil {
		t.Fatal(err)
	}
	bob, _, err := b.st.CreateKey(ctx, plat.ID, store.RoleReviewer, "bob")
	if err != nil {
		t.Fatal(err)
	}
	merchant2, _, err := b.st.CreateKey(ctx, b.tenantID, store.RoleMerchant, "second")
	if err != nil {
		t.Fatal(err)
	}
	const path = "/v1/review/queues"
	for i := range 2 {
		if st, _, raw := b.fetchJSON(b.url, path, alice, nil); st != 200 {
			t.Fatalf("alice's request %d within her burst: %d %s", i+1, st, raw)
		}
	}
	if st, _, _ := b.fetchJSON(b.url, path, alice, nil); st != http.StatusTooManyRequests {
		t.Fatalf("alice's third request: %d, want 429", st)
	}
	for i := range 2 {
		if st, _, raw := b.fetchJSON(b.url, path, bob, nil); st != 200 {
			t.Fatalf("bob's request %d, after alice spent hers: %d %s", i+1, st, raw)
		}
	}
	// A merchant tenant's keys still share the tenant's bucket.
	for i := range 2 {
		if st, _, raw := b.fetchJSON(b.url, "/v1/designs", b.key, nil); st != 200 {
			t.Fatalf("merchant request %d: %d %s", i+1, st, raw)
		}
	}
	if st, _, _ := b.fetchJSON(b.url, "/v1/designs", merchant2, nil); st != http.StatusTooManyRequests {
		t.Fatalf("the tenant's second key after the first spent the burst: %d, want 429", st)
	}
}

// TestPendingQuota: a tenant may have at most its tier's number of designs
// waiting for a verdict; the next is a 429 quota_exceeded, a repeat of an
// earlier submission is still answered with its design, and a refused
// upload leaves no blob behind.
func TestPendingQuota(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.TierFree = configTier(1000, 1000, 2)
	cfg.TierPaid = configTier(1000, 1000, 1000)
	b := setup(t, func(o *app.Options) { o.Config = cfg; o.Work = false })
	for i := range 2 {
		if r := b.submit(shirt(pngOf(t, 800+i)), "", nil); r.status != 201 {
			t.Fatalf("design %d: %d %+v", i, r.status, r.err)
		}
	}
	over := b.submit(shirt(pngOf(t, 802)), "", nil)
	if over.status != http.StatusTooManyRequests || over.err.Error.Code != "quota_exceeded" || over.header.Get("Retry-After") == "" {
		t.Fatalf("third pending design: %d %+v Retry-After %q", over.status, over.err, over.header.Get("Retry-After"))
	}
	if again := b.submit(shirt(pngOf(t, 800)), "", nil); again.status != 200 || !again.design.Duplicate {
		t.Fatalf("repeat of a pending design: %d %+v", again.status, again.err)
	}
	q := b.queue(t)
	if ok, err := q.HasBlob(t.Context(), sha(pngOf(t, 802))); err != nil || ok {
		t.Fatalf("the refused upload's blob is stored: %v %v", ok, err)
	}
}

// TestFairScheduling: tenant A queues a burst of 40 designs before tenant B
// queues one; with one worker slot, B's design is decided second, not 41st
// (before: strict FIFO over one consumer).
func TestFairScheduling(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *app.Options) { o.Work = false })
	tb := b.tenant("tenant-b")
	const burst = 40
	for i := range burst {
		if r := b.submit(shirt(pngOf(t, 900+i)), "", nil); r.status != 201 {
			t.Fatalf("A's design %d: %d", i, r.status)
		}
	}
	rb := b.submitAs(tb.merchant, shirt(pngOf(t, 999)), "")
	if rb.status != 201 {
		t.Fatalf("B: %d", rb.status)
	}
	q := b.queue(t)
	b.waitFor("every design enqueued", 10*time.Second, func() bool {
		s, err := q.Stats(t.Context())
		return err == nil && s.Pending == burst+1
	})
	cfg := testConfig()
	cfg.Concurrency = 1
	b.start(app.Options{Config: cfg, Analyzers: []analyzers.Analyzer{hashing.Analyzer{}}, Decider: policy.AllowAll{}, Work: true, QueueConfig: testQueue()})
	b.waitFor("every design decided", 60*time.Second, func() bool {
		return b.count(`SELECT count(*) FROM designs WHERE status = 'decided'`) == burst+1
	})
	pos := b.count(`SELECT count(*) FROM verdicts WHERE id <= (SELECT id FROM verdicts WHERE design_id = $1)`, rb.design.ID)
	if pos > 2 {
		t.Fatalf("B's design was decided %dth of %d: it waited behind A's backlog", pos, burst+1)
	}
}

// TestOutboxSurvivesCrash: a process dies right after committing — the
// design row, then the verdict — before publishing. Nothing reached NATS;
// the next process's relay publishes both, the design is decided and its
// webhook delivered once (before: the design stayed queued until the
// sweeper found it minutes later, the verdict event was lost).
func TestOutboxSurvivesCrash(t *testing.T) {
	t.Parallel()
	got := make(chan webhook.Payload, 4)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p webhook.Payload
		json.NewDecoder(r.Body).Decode(&p)
		got <- p
	}))
	defer recv.Close()
	b := setupWith(t, func(b *bundle, o *app.Options) { o.NoRelay = true })
	if _, err := b.st.SetWebhook(t.Context(), b.tenantID, recv.URL); err != nil {
		t.Fatal(err)
	}
	r := b.submit(shirt(pngOf(t, 1100)), "?wait=1s", nil)
	if r.status != 201 || r.design.Status != store.StatusQueued {
		t.Fatalf("submitted: %d %s", r.status, r.design.Status)
	}
	q := b.queue(t)
	if n := streamMsgs(t, q, queue.StreamDesigns); n != 0 {
		t.Fatalf("%d work messages before any relay ran", n)
	}
	if n := b.count(`SELECT count(*) FROM outbox WHERE sent_at IS NULL AND topic = 'design.submitted'`); n != 1 {
		t.Fatalf("%d unsent submissions in the outbox", n)
	}
	// Enqueue by hand (as the relay would) so the dying process decides it
	// and dies again before publishing the verdict.
	if err := q.Submit(t.Context(), queue.Submitted{DesignID: r.design.ID, TenantID: b.tenantID}); err != nil {
		t.Fatal(err)
	}
	b.waitFor("the verdict committed", 20*time.Second, func() bool {
		return b.count(`SELECT count(*) FROM designs WHERE status = 'decided'`) == 1
	})
	if n := streamMsgs(t, q, queue.StreamVerdicts); n != 0 {
		t.Fatalf("%d verdict events published by a process without a relay", n)
	}
	b.stopAll()
	// The next process: its relay publishes what the dead one committed.
	b.start(app.Options{Config: testConfig(), Analyzers: []analyzers.Analyzer{hashing.Analyzer{}}, Decider: policy.AllowAll{}, Work: true, QueueConfig: testQueue()})
	select {
	case p := <-got:
		if p.DesignID != r.design.ID || p.Type != "verdict.recorded" || p.DeliveryID == "" {
			t.Fatalf("webhook %+v", p)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the committed verdict was never announced")
	}
	b.waitFor("the outbox drained", 10*time.Second, func() bool {
		return b.count(`SELECT count(*) FROM outbox WHERE sent_at IS NULL`) == 0
	})
	if n := streamMsgs(t, q, queue.StreamVerdicts); n != 1 {
		t.Fatalf("%d verdict events, want 1 (the relay re-publishing is de-duplicated)", n)
	}
	select {
	case p := <-got:
		t.Fatalf("a second webhook %+v", p)
	case <-time.After(500 * time.Millisecond):
	}
}

// TestOrphanBlobs: an upload refused after its bytes were stored (an
// idempotency key reused for other bytes) deletes them; blob collection
// deletes unreferenced blobs older than the grace period and keeps young
// and referenced ones.
func TestOrphanBlobs(t *testing.T) {
	t.Parallel()
	b := setup(t)
	q := b.queue(t)
	ctx := t.Context()
	h := map[string]string{"Idempotency-Key": "k1"}
	if r := b.submit(shirt(pngOf(t, 1200)), "", h); r.status != 201 {
		t.Fatalf("first: %d", r.status)
	}
	if r := b.submit(shirt(pngOf(t, 1201)), "", h); r.status != http.StatusConflict {
		t.Fatalf("reused key: %d", r.status)
	}
	if ok, _ := q.HasBlob(ctx, sha(pngOf(t, 1201))); ok {
		t.Fatal("the refused upload left its blob")
	}
	if ok, _ := q.HasBlob(ctx, sha(pngOf(t, 1200))); !ok {
		t.Fatal("the stored design's blob is gone")
	}
	orphan := pngOf(t, 1202)
	if _, err := q.PutBlob(ctx, sha(orphan), orphan); err != nil {
		t.Fatal(err)
	}
	if n, err := workers.CollectBlobs(ctx, b.st, q, time.Hour, nil); err != nil || n != 0 {
		t.Fatalf("within the grace period: collected %d, %v", n, err)
	}
	time.Sleep(10 * time.Millisecond)
	if n, err := workers.CollectBlobs(ctx, b.st, q, time.Millisecond, nil); err != nil || n != 1 {
		t.Fatalf("after the grace period: collected %d, %v; want the orphan only", n, err)
	}
	if ok, _ := q.HasBlob(ctx, sha(orphan)); ok {
		t.Fatal("orphan kept")
	}
	if ok, _ := q.HasBlob(ctx, sha(pngOf(t, 1200))); !ok {
		t.Fatal("a referenced blob was collected")
	}
}

// serveAnother starts a second API instance (no workers) on the bundle's
// database and NATS and returns its base URL.
func (b *bundle) serveAnother(cfg configT) string {
	b.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.t.Fatal(err)
	}
	b.start(app.Options{Config: cfg, Analyzers: []analyzers.Analyzer{hashing.Analyzer{}}, Decider: policy.AllowAll{}, Serve: true, Listener: ln, QueueConfig: testQueue()})
	return "http://" + ln.Addr().String()
}

func (b *bundle) queue(t *testing.T) *queue.Queue {
	t.Helper()
	q, err := queue.Setup(t.Context(), b.nc, *testQueue())
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func streamMsgs(t *testing.T, q *queue.Queue, name string) uint64 {
	t.Helper()
	s, err := q.JetStream().Stream(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	si, err := s.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return si.State.Msgs
}

type configT = config.Config

func configTier(rate float64, burst, pending int) config.Tier {
	return config.Tier{Rate: rate, Burst: burst, Pending: pending}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// hung never returns from its first call for a design titled "hang", and
// ignores cancellation.
type hung struct{ calls atomic.Int32 }

func (h *hung) Name() string    { return "hung" }
func (h *hung) Version() string { return "1" }
func (h *hung) Analyze(ctx context.Context, d *analyzers.Design) (analyzers.Result, error) {
	if d.Title == "hang" {
		h.calls.Add(1)
		select {} // deaf to ctx
	}
	return analyzers.Result{Data: "ok"}, nil
}

// TestAnalysisDeadline: an analysis that hangs (deaf to cancellation) fails
// its attempt at the deadline instead of being heartbeated forever; after
// MaxDeliver attempts the design is failed and visible (before: it stayed
// analysing, and the sweeper started a second analysis beside it).
func TestAnalysisDeadline(t *testing.T) {
	t.Parallel()
	h := &hung{}
	cfg := testConfig()
	cfg.AnalysisTimeout = 300 * time.Millisecond
	b := setup(t, func(o *app.Options) { o.Config = cfg; o.Analyzers = append(o.Analyzers, h) })
	f := shirt(pngOf(t, 1300))
	f.fields["title"] = "hang"
	r := b.submit(f, "?wait=20s", nil)
	if r.design.Status != store.StatusFailed || !strings.Contains(r.design.FailureReason, "did not finish within 300ms") {
		t.Fatalf("status %s, reason %q", r.design.Status, r.design.FailureReason)
	}
	// At most MaxDeliver attempts (a delivery lost in transit under load
	// counts as one without reaching the analyzer).
	if got := h.calls.Load(); got < 1 || got > 3 {
		t.Fatalf("%d attempts, want at most MaxDeliver = 3", got)
	}
	if fine := b.submit(shirt(pngOf(t, 1301)), "?wait=10s", nil); fine.design.Status != store.StatusDecided {
		t.Fatalf("a healthy design beside it: %s", fine.design.Status)
	}
}

// TestMetricsOff: with MUSTER_METRICS_ADDR=off (or an address of its own)
// the API does not serve /metrics.
func TestMetricsOff(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.MetricsAddr = "off"
	b := setup(t, func(o *app.Options) { o.Config = cfg })
	if st, _, _ := b.fetchJSON(b.url, "/metrics", "", nil); st != http.StatusNotFound {
		t.Fatalf("/metrics on the API: %d, want 404", st)
	}
}
