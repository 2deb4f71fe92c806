package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"

	"github.com/muster-dev/muster/analyzers"
	"github.com/muster-dev/muster/analyzers/hashing"
	"github.com/muster-dev/muster/api"
	"github.com/muster-dev/muster/cmd/muster/app"
	"github.com/muster-dev/muster/internal/config"
	"github.com/muster-dev/muster/internal/natstest"
	"github.com/muster-dev/muster/internal/pgtest"
	"github.com/muster-dev/muster/policy"
	"github.com/muster-dev/muster/queue"
	"github.com/muster-dev/muster/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// bundle is one test's pipeline: a database, a NATS server, the API on a
// random port, workers, and a merchant key.
type bundle struct {
	t        *testing.T
	pool     *pgxpool.Pool
	nc       *nats.Conn
	st       *store.Store
	url      string
	metrics  string // the metrics listener's URL
	key      string
	adminKey string
	tenantID string
	stops    []func()
}

type option func(*app.Options)

func testConfig() config.Config {
	return config.Config{HTTPAddr: "127.0.0.1:0", Concurrency: 4, Analyzers: []string{"hash"}, MaxBytes: 2 << 20, MaxPixels: 4_000_000,
		AckWait: 2 * time.Second, MaxDeliver: 3, NATSReplicas: 1, ShutdownGrace: 5 * time.Second,
		WebhookAllowNets: "127.0.0.0/8"} // the tests' webhook receivers listen on loopback
}

func testQueue() *queue.Config {
	return &queue.Config{AckWait: 2 * time.Second, MaxDeliver: 3, Backoff: []time.Duration{50 * time.Millisecond, 100 * time.Millisecond}}
}

func setup(t *testing.T, opts ...option) *bundle {
	t.Helper()
	return setupWith(t, func(_ *bundle, o *app.Options) {
		for _, f := range opts {
			f(o)
		}
	})
}

// setupWith is setup with an option that sees the bundle (its database and
// NATS connection) before the pipeline starts.
func setupWith(t *testing.T, opt func(*bundle, *app.Options)) *bundle {
	t.Helper()
	b := &bundle{t: t, pool: pgtest.New(t), nc: natstest.New(t)}
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
	if b.adminKey, _, err = b.st.CreateKey(ctx, ten.ID, store.RoleAdmin, "test admin"); err != nil {
		t.Fatal(err)
	}
	o := app.Options{Config: testConfig(), Analyzers: []analyzers.Analyzer{hashing.Analyzer{}}, Decider: policy.AllowAll{},
		Serve: true, Work: true, QueueConfig: testQueue()}
	opt(b, &o)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o.Listener = ln
	b.url = "http://" + ln.Addr().String()
	mln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o.MetricsListener = mln
	b.metrics = "http://" + mln.Addr().String()
	b.start(o)
	return b
}

// start runs a pipeline until the test ends; the returned stop function
// stops it early and waits.
func (b *bundle) start(o app.Options) (stop func()) {
	b.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p, err := app.New(ctx, b.pool, b.nc, o)
	if err != nil {
		b.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := p.Run(ctx); err != nil {
			b.t.Errorf("pipeline: %v", err)
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	b.t.Cleanup(stop)
	b.stops = append(b.stops, stop)
	return stop
}

// stopAll stops every pipeline the bundle started.
func (b *bundle) stopAll() {
	for _, stop := range b.stops {
		stop()
	}
}

// pngOf returns a small PNG unique to n.
func pngOf(t testing.TB, n int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 48, 48))
	for y := 0; y < 48; y++ {
		for x := 0; x < 48; x++ {
			img.SetNRGBA(x, y, color.NRGBA{uint8(n), uint8(n >> 8), uint8(x * 5), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type form struct {
	file     []byte
	fileType string
	fields   map[string]string
}

func (f form) encode() (io.Reader, string) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if f.file != nil {
		h := make(map[string][]string)
		h["Content-Disposition"] = []string{`form-data; name="design"; filename="d.png"`}
		ct := f.fileType
		if ct == "" {
			ct = "image/png"
		}
		h["Content-Type"] = []string{ct}
		w, _ := mw.CreatePart(h)
		w.Write(f.file)
	}
	for k, v := range f.fields {
		mw.WriteField(k, v)
	}
	mw.Close()
	return &body, mw.FormDataContentType()
}

type response struct {
	status int
	design api.DesignView
	err    struct {
		Error api.Error `json:"error"`
	}
	header http.Header
}

func (b *bundle) do(method, path, key string, body io.Reader, contentType string, header map[string]string) response {
	b.t.Helper()
	req, err := http.NewRequest(method, b.url+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if key != "" {
		if k, ok := strings.CutPrefix(key, "lower:"); ok {
			req.Header.Set("Authorization", "bearer "+k) // the scheme is case-insensitive
		} else {
			req.Header.Set("Authorization", "Bearer "+key)
		}
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header}
	if resp.StatusCode >= 400 {
		if err := json.Unmarshal(raw, &r.err); err != nil || r.err.Error.Code == "" {
			b.t.Fatalf("%s %s: %d with body %q: not the error shape", method, path, resp.StatusCode, raw)
		}
	} else if strings.HasPrefix(path, "/v1/designs") && !strings.HasSuffix(path, "/events") {
		_ = json.Unmarshal(raw, &r.design)
	}
	return r
}

func (b *bundle) submit(f form, query string, header map[string]string) response {
	body, ct := f.encode()
	return b.do("POST", "/v1/designs"+query, b.key, body, ct, header)
}

func shirt(data []byte) form {
	return form{file: data, fields: map[string]string{"markets": "DE,US,FR", "product": "tshirt"}}
}

func (b *bundle) count(query string, args ...any) int {
	b.t.Helper()
	var n int
	if err := b.pool.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		b.t.Fatal(err)
	}
	return n
}

func TestSubmitAndWaitForVerdict(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.submit(shirt(pngOf(t, 1)), "?wait=10s", nil)
	if r.status != http.StatusCreated {
		t.Fatalf("status %d: %+v", r.status, r.err)
	}
	d := r.design
	if d.Status != store.StatusDecided || d.Verdict == nil {
		t.Fatalf("status %s, verdict %v: want decided within the wait", d.Status, d.Verdict)
	}
	if len(d.Verdict.Decision.Markets) != 3 || d.Verdict.Decision.Markets[0].Market != "DE" {
		t.Fatalf("markets %+v", d.Verdict.Decision.Markets)
	}
	for _, k := range []string{"analyzer:hash", "policy"} {
		if d.Verdict.Versions[k] == "" {
			t.Fatalf("verdict versions %v lack %s", d.Verdict.Versions, k)
		}
	}
	if d.Width != 48 || d.MediaType != "image/png" || d.SHA256 == "" {
		t.Fatalf("design metadata %+v", d.Design)
	}
	if r.header.Get("Location") != "/v1/designs/"+d.ID {
		t.Fatalf("Location %q", r.header.Get("Location"))
	}
	got := b.do("GET", "/v1/designs/"+d.ID, b.key, nil, "", nil)
	if got.status != 200 || got.design.Verdict == nil || got.design.Verdict.ID != d.Verdict.ID {
		t.Fatalf("GET later: %d %+v", got.status, got.design.Verdict)
	}
	if n := b.count(`SELECT count(*) FROM analyses WHERE design_id = $1 AND analyzer = 'hash'`, d.ID); n != 1 {
		t.Fatalf("%d hash analyses", n)
	}
	if n := b.count(`SELECT count(*) FROM events WHERE design_id = $1`, d.ID); n < 2 {
		t.Fatalf("%d events, want submitted and verdict", n)
	}
}

func TestConcurrentSubmissions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const n = 200
	ids := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body, ct := shirt(pngOf(t, i+1000)).encode()
			req, _ := http.NewRequest("POST", b.url+"/v1/designs?wait=30s", body)
			req.Header.Set("Authorization", "Bearer "+b.key)
			req.Header.Set("Content-Type", ct)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			var v api.DesignView
			if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.StatusCode != 201 {
				errs <- fmt.Errorf("status %d: %v", resp.StatusCode, err)
				return
			}
			ids[i] = v.ID
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Waiters may time out under load; every design must still end decided.
	deadline := time.Now().Add(60 * time.Second)
	for b.count(`SELECT count(*) FROM designs WHERE status = 'decided'`) < n && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if got := b.count(`SELECT count(*) FROM designs WHERE status = 'decided'`); got != n {
		t.Fatalf("%d of %d designs decided", got, n)
	}
	if got := b.count(`SELECT count(*) FROM verdicts`); got != n {
		t.Fatalf("%d verdicts for %d designs: each must be recorded exactly once", got, n)
	}
	if got := b.count(`SELECT count(DISTINCT design_id) FROM verdicts`); got != n {
		t.Fatalf("verdicts cover %d designs, want %d", got, n)
	}
}

func TestDuplicateSubmissions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	data := pngOf(t, 7)
	first := b.submit(shirt(data), "?wait=10s", nil)
	if first.status != 201 {
		t.Fatalf("first: %d", first.status)
	}
	for i := 0; i < 3; i++ {
		again := b.submit(shirt(data), "", nil)
		if again.status != 200 || again.design.ID != first.design.ID || !again.design.Duplicate {
			t.Fatalf("repeat %d: status %d id %s duplicate %v, want 200 with %s", i, again.status, again.design.ID, again.design.Duplicate, first.design.ID)
		}
		if again.design.Verdict == nil {
			t.Fatal("a duplicate of a decided design must carry the existing verdict")
		}
	}
	if n := b.count(`SELECT count(*) FROM designs`); n != 1 {
		t.Fatalf("%d designs, want 1", n)
	}
	// Different markets: a new design, the same blob.
	other := shirt(data)
	other.fields["markets"] = "BR"
	if r := b.submit(other, "", nil); r.status != 201 {
		t.Fatalf("other markets: %d", r.status)
	}
	// force=true analyses again.
	forced := shirt(data)
	forced.fields["force"] = "true"
	if r := b.submit(forced, "", nil); r.status != 201 || r.design.ID == first.design.ID {
		t.Fatalf("forced: %d %s", r.status, r.design.ID)
	}
	if n := b.count(`SELECT count(*) FROM designs`); n != 3 {
		t.Fatalf("%d designs, want 3", n)
	}
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	h := map[string]string{"Idempotency-Key": "upload-42"}
	r1 := b.submit(shirt(pngOf(t, 42)), "", h)
	r2 := b.submit(shirt(pngOf(t, 42)), "", h)
	if r1.status != 201 || r2.status != 200 || r1.design.ID != r2.design.ID {
		t.Fatalf("replay: %d %d %s %s", r1.status, r2.status, r1.design.ID, r2.design.ID)
	}
	r3 := b.submit(shirt(pngOf(t, 43)), "", h)
	if r3.status != http.StatusConflict || r3.err.Error.Code != "conflict" {
		t.Fatalf("reused key with other bytes: %d %+v", r3.status, r3.err)
	}
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	good := pngOf(t, 1)
	big := image.NewNRGBA(image.Rect(0, 0, 2100, 2000)) // 4.2 MP > the 4 MP test limit
	var bigPNG bytes.Buffer
	png.Encode(&bigPNG, big)
	tests := []struct {
		name   string
		f      form
		raw    []byte
		rawCT  string
		query  string
		status int
		code   string
	}{
		{"not an image", form{file: []byte("hello world"), fileType: "image/png", fields: map[string]string{"markets": "DE", "product": "tshirt"}}, nil, "", "", 415, "unsupported_media_type"},
		{"truncated", form{file: good[:len(good)-40], fields: map[string]string{"markets": "DE", "product": "tshirt"}}, nil, "", "", 422, "corrupt_image"},
		{"wrong media type", form{file: good, fileType: "image/jpeg", fields: map[string]string{"markets": "DE", "product": "tshirt"}}, nil, "", "", 415, "media_type_mismatch"},
		{"too many bytes", form{file: make([]byte, 3<<20), fields: map[string]string{"markets": "DE", "product": "tshirt"}}, nil, "", "", 413, "too_large"},
		{"too many pixels", form{file: bigPNG.Bytes(), fields: map[string]string{"markets": "DE", "product": "tshirt"}}, nil, "", "", 413, "too_many_pixels"},
		{"unknown market", form{file: good, fields: map[string]string{"markets": "DE,XX", "product": "tshirt"}}, nil, "", "", 400, "invalid_markets"},
		{"no markets", form{file: good, fields: map[string]string{"product": "tshirt"}}, nil, "", "", 400, "invalid_markets"},
		{"unknown product", form{file: good, fields: map[string]string{"markets": "DE", "product": "spaceship"}}, nil, "", "", 400, "invalid_product"},
		{"no design", form{fields: map[string]string{"markets": "DE", "product": "tshirt"}}, nil, "", "", 400, "missing_design"},
		{"wait too long", shirt(good), nil, "", "?wait=5m", 400, "invalid_wait"},
		{"title too long", form{file: good, fields: map[string]string{"markets": "DE", "product": "tshirt", "title": strings.Repeat("x", 301)}}, nil, "", "", 400, "invalid_text"},
		{"NUL in title", form{file: good, fields: map[string]string{"markets": "DE", "product": "tshirt", "title": "a\x00b"}}, nil, "", "", 400, "invalid_text"},
		{"control character in a tag", form{file: good, fields: map[string]string{"markets": "DE", "product": "tshirt", "tags": "ok,bad\x07"}}, nil, "", "", 400, "invalid_text"},
		{"raw text body", form{}, []byte("hi"), "text/plain", "?markets=DE&product=tshirt", 415, "unsupported_media_type"},
		{"raw image bad market", form{}, good, "image/png", "?markets=ZZ&product=tshirt", 400, "invalid_markets"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r response
			if tt.raw != nil {
				r = b.do("POST", "/v1/designs"+tt.query, b.key, bytes.NewReader(tt.raw), tt.rawCT, nil)
			} else {
				r = b.submit(tt.f, tt.query, nil)
			}
			if r.status != tt.status || r.err.Error.Code != tt.code {
				t.Fatalf("got %d %s (%s), want %d %s", r.status, r.err.Error.Code, r.err.Error.Message, tt.status, tt.code)
			}
			if r.err.Error.Message == "" {
				t.Fatal("error without a message")
			}
		})
	}
	if n := b.count(`SELECT count(*) FROM designs`); n != 0 {
		t.Fatalf("%d designs stored from bad input, want 0", n)
	}
	// A raw image body with metadata in the query is accepted.
	if r := b.do("POST", "/v1/designs?markets=DE&product=mug", b.key, bytes.NewReader(good), "image/png", nil); r.status != 201 {
		t.Fatalf("raw body: %d %+v", r.status, r.err)
	}
}

func TestAuthAndTenantIsolation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	r := b.submit(shirt(pngOf(t, 5)), "?wait=10s", nil)
	id := r.design.ID
	other, _, _ := b.st.CreateTenant(ctx, "other", "")
	otherKey, _, _ := b.st.CreateKey(ctx, other.ID, store.RoleMerchant, "")
	reviewerKey, _, _ := b.st.CreateKey(ctx, b.tenantID, store.RoleReviewer, "")
	revoked, k, _ := b.st.CreateKey(ctx, b.tenantID, store.RoleMerchant, "")
	if err := b.st.RevokeKey(ctx, k.Prefix); err != nil {
		t.Fatal(err)
	}
	body, ct := shirt(pngOf(t, 6)).encode()
	tests := []struct {
		name, method, path, key string
		body                    io.Reader
		ct                      string
		status                  int
		code                    string
	}{
		{"no key", "GET", "/v1/designs/" + id, "", nil, "", 401, "unauthenticated"},
		{"lowercase scheme is accepted", "GET", "/v1/designs/" + id, "lower:" + b.key, nil, "", 200, ""},
		{"garbage key", "GET", "/v1/designs/" + id, "mst_nope_nope", nil, "", 401, "unauthenticated"},
		{"revoked key", "GET", "/v1/designs/" + id, revoked, nil, "", 401, "unauthenticated"},
		{"other tenant", "GET", "/v1/designs/" + id, otherKey, nil, "", 404, "not_found"},
		{"other tenant events", "GET", "/v1/designs/" + id + "/events", otherKey, nil, "", 404, "not_found"},
		{"reviewer cannot submit", "POST", "/v1/designs", reviewerKey, body, ct, 403, "forbidden"},
		{"merchant cannot set webhook", "PUT", "/v1/webhook", b.key, strings.NewReader(`{"url":"https://x"}`), "application/json", 403, "forbidden"},
		{"unknown route", "GET", "/v2/nothing", b.key, nil, "", 404, "not_found"},
		{"webhook to cloud metadata", "PUT", "/v1/webhook", b.adminKey, strings.NewReader(`{"url":"http://169.254.169.254/latest/meta-data/"}`), "application/json", 400, "invalid_url"},
		{"webhook without a host", "PUT", "/v1/webhook", b.adminKey, strings.NewReader(`{"url":"http://"}`), "application/json", 400, "invalid_url"},
		{"webhook to a private address", "PUT", "/v1/webhook", b.adminKey, strings.NewReader(`{"url":"https://10.0.0.5/hook"}`), "application/json", 400, "invalid_url"},
	}
	for _, tt := range tests {
		r := b.do(tt.method, tt.path, tt.key, tt.body, tt.ct, nil)
		if r.status != tt.status || r.err.Error.Code != tt.code {
			t.Fatalf("%s: got %d %s, want %d %s", tt.name, r.status, r.err.Error.Code, tt.status, tt.code)
		}
	}
	if r := b.do("GET", "/v1/designs/"+id, reviewerKey, nil, "", nil); r.status != 200 {
		t.Fatalf("reviewer of the same tenant: %d", r.status)
	}
	var list struct{ Designs []store.Design }
	req, _ := http.NewRequest("GET", b.url+"/v1/designs", nil)
	req.Header.Set("Authorization", "Bearer "+otherKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if len(list.Designs) != 0 {
		t.Fatalf("other tenant lists %d designs", len(list.Designs))
	}
}

// failing fails every design titled "poison".
type failing struct{ calls atomic.Int32 }

func (f *failing) Name() string    { return "failing" }
func (f *failing) Version() string { return "1" }
func (f *failing) Analyze(ctx context.Context, d *analyzers.Design) (analyzers.Result, error) {
	if d.Title == "poison" {
		f.calls.Add(1)
		return analyzers.Result{}, errors.New("model exploded")
	}
	return analyzers.Result{Data: map[string]bool{"ok": true}}, nil
}

func TestFailingAnalyzerDeadLetters(t *testing.T) {
	t.Parallel()
	f := &failing{}
	b := setup(t, func(o *app.Options) { o.Analyzers = append(o.Analyzers, f) })
	poison := shirt(pngOf(t, 66))
	poison.fields["title"] = "poison"
	p := b.submit(poison, "?wait=20s", nil)
	fine := b.submit(shirt(pngOf(t, 67)), "?wait=20s", nil)
	if fine.design.Status != store.StatusDecided {
		t.Fatalf("healthy design: %s", fine.design.Status)
	}
	if p.design.Status != store.StatusFailed {
		t.Fatalf("poison design: status %s, want failed", p.design.Status)
	}
	if !strings.Contains(p.design.FailureReason, "model exploded") {
		t.Fatalf("failure reason %q", p.design.FailureReason)
	}
	if got := f.calls.Load(); got != 3 {
		t.Fatalf("%d attempts, want MaxDeliver = 3", got)
	}
	js, _ := queueStream(t, b.nc, queue.StreamDead)
	if js != 1 {
		t.Fatalf("%d dead letters, want 1", js)
	}
	if n := b.count(`SELECT count(*) FROM events WHERE design_id = $1 AND type = 'analysis.attempt_failed'`, p.design.ID); n != 2 {
		t.Fatalf("%d attempt_failed events, want 2", n)
	}
}

func queueStream(t *testing.T, nc *nats.Conn, name string) (uint64, error) {
	t.Helper()
	js, err := nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	si, err := js.StreamInfo(name)
	if err != nil {
		t.Fatal(err)
	}
	return si.State.Msgs, nil
}

// stuck blocks on its first call until its context ends.
type stuck struct {
	started chan struct{}
	once    sync.Once
	calls   atomic.Int32
}

func (s *stuck) Name() string    { return "stuck" }
func (s *stuck) Version() string { return "1" }
func (s *stuck) Analyze(ctx context.Context, d *analyzers.Design) (analyzers.Result, error) {
	if s.calls.Add(1) == 1 {
		s.once.Do(func() { close(s.started) })
		<-ctx.Done()
		return analyzers.Result{}, ctx.Err()
	}
	return analyzers.Result{Data: "done"}, nil
}

func TestWorkerStoppedMidAnalysis(t *testing.T) {
	t.Parallel()
	s := &stuck{started: make(chan struct{})}
	b := setup(t, func(o *app.Options) { o.Work = false }) // API only
	cfg := testConfig()
	cfg.ShutdownGrace = 100 * time.Millisecond
	stopA := b.start(app.Options{Config: cfg, Analyzers: []analyzers.Analyzer{s}, Decider: policy.AllowAll{}, Work: true, QueueConfig: testQueue()})
	r := b.submit(shirt(pngOf(t, 9)), "", nil)
	select {
	case <-s.started:
	case <-time.After(20 * time.Second):
		t.Fatal("analysis never started")
	}
	stopA() // the worker goes away mid-analysis
	b.start(app.Options{Config: cfg, Analyzers: []analyzers.Analyzer{s}, Decider: policy.AllowAll{}, Work: true, QueueConfig: testQueue()})
	got := b.do("GET", "/v1/designs/"+r.design.ID+"?wait=20s", b.key, nil, "", nil)
	if got.design.Status != store.StatusDecided {
		t.Fatalf("status %s after redelivery", got.design.Status)
	}
	if got.design.Attempts != 2 {
		t.Fatalf("attempts %d, want 2", got.design.Attempts)
	}
	if n := b.count(`SELECT count(*) FROM verdicts WHERE design_id = $1`, r.design.ID); n != 1 {
		t.Fatalf("%d verdicts", n)
	}
}

func TestHealthAndOpenAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, p := range []string{"/healthz", "/readyz", "/openapi.json"} {
		resp, err := http.Get(b.url + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", p, resp.StatusCode)
		}
	}
	resp, _ := http.Get(b.url + "/openapi.json")
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	// Every documented operation is routed: nothing answers with the
	// catch-all "no route" error.
	for path, ops := range doc.Paths {
		for method := range ops {
			url := strings.ReplaceAll(path, "{id}", "00000000-0000-0000-0000-000000000000")
			r := b.do(strings.ToUpper(method), url, b.adminKey, strings.NewReader("{}"), "application/json", nil)
			if r.status == 404 && strings.HasPrefix(r.err.Error.Message, "no route") {
				t.Fatalf("%s %s documented but not routed", method, path)
			}
		}
	}
	// Metrics are served on their own listener, not the API's.
	if r := b.do("GET", "/metrics", "", nil, "", nil); r.status != 404 {
		t.Fatalf("/metrics on the API's address: %d, want 404", r.status)
	}
	resp, err := http.Get(b.metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metricsText, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"muster_queue_pending 0", "muster_dead_letters 0", "muster_http_requests_total"} {
		if !strings.Contains(string(metricsText), want) {
			t.Fatalf("/metrics lacks %q", want)
		}
	}
	for _, want := range []string{"/v1/designs", "/v1/designs/{id}", "/healthz", "/readyz"} {
		if doc.Paths[want] == nil {
			t.Fatalf("OpenAPI lacks %s", want)
		}
	}
}

func TestInvalidQueueMessageIsDeadLettered(t *testing.T) {
	t.Parallel()
	b := setup(t)
	js, err := b.nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	for _, payload := range []string{"not json", `{"tenant_id":"x"}`, `{"design_id":"00000000-0000-0000-0000-000000000001"}`} {
		if _, err := js.Publish(queue.SubjectSubmitted, []byte(payload)); err != nil {
			t.Fatal(err)
		}
	}
	ok := b.submit(shirt(pngOf(t, 77)), "?wait=20s", nil)
	if ok.design.Status != store.StatusDecided {
		t.Fatalf("a valid design next to bad messages: %s", ok.design.Status)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		n, _ := queueStream(t, b.nc, queue.StreamDead)
		if n == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d dead letters, want 3 (two malformed, one for a design that does not exist)", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// hanging never finishes a design titled "hang" until its context ends.
type hanging struct{ calls atomic.Int32 }

func (h *hanging) Name() string    { return "hanging" }
func (h *hanging) Version() string { return "1" }
func (h *hanging) Analyze(ctx context.Context, d *analyzers.Design) (analyzers.Result, error) {
	if d.Title != "hang" {
		return analyzers.Result{Data: map[string]bool{"ok": true}}, nil
	}
	h.calls.Add(1)
	<-ctx.Done()
	return analyzers.Result{}, ctx.Err()
}

// TestHungAnalysisHitsItsDeadline: an analysis that never returns is cut
// off at the attempt deadline (heartbeats do not keep it alive), retried,
// then dead-lettered with the reason — never left analyzing.
func TestHungAnalysisHitsItsDeadline(t *testing.T) {
	t.Parallel()
	h := &hanging{}
	b := setup(t, func(o *app.Options) {
		o.Analyzers = append(o.Analyzers, h)
		o.Config.AnalysisTimeout = 300 * time.Millisecond
	})
	f := shirt(pngOf(t, 71))
	f.fields["title"] = "hang"
	r := b.submit(f, "", nil)
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := b.do("GET", "/v1/designs/"+r.design.ID, b.key, nil, "", nil)
		if got.design.Status == store.StatusFailed {
			if !strings.Contains(got.design.FailureReason, "deadline") {
				t.Fatalf("failure reason %q does not name the deadline", got.design.FailureReason)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("hung design still %s after 30 s (%d attempts)", got.design.Status, h.calls.Load())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := h.calls.Load(); got != 3 {
		t.Fatalf("%d attempts, want MaxDeliver = 3", got)
	}
}

// settled waits (up to timeout) for the submitted design r to have a
// verdict: a busy machine may take longer than one ?wait= allows. It is not
// a speed assertion; speed is measured by make bench-pipeline.
func (b *bundle) settled(r response, timeout time.Duration) response {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	for r.design.Verdict == nil && r.status < 300 && r.design.ID != "" && time.Now().Before(deadline) {
		r = b.do("GET", "/v1/designs/"+r.design.ID+"?wait=20s", b.key, nil, "", nil)
	}
	return r
}
