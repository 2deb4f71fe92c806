// Package workers consumes submitted designs from JetStream, runs the
// configured analyzers, stores every analysis, asks the policy for the
// verdict and records it — acknowledging only after the result is durably
// written. Failures are classed (Classify): an analysis failure is retried
// with back-off and dead-lettered after MaxDeliver analysis attempts; an
// infrastructure failure (PostgreSQL, the object store, NATS unavailable)
// is retried with back-off for a time budget of its own without using up
// the design's attempts; an unreadable blob has its own reason and budget.
// A failed design is marked failed and dead-lettered, never dropped, and
// never allowed without analysis.
package workers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/muster-dev/muster/analyzers"
	"github.com/muster-dev/muster/internal/imaging"
	"github.com/muster-dev/muster/internal/metrics"
	"github.com/muster-dev/muster/mustertype"
	"github.com/muster-dev/muster/queue"
	"github.com/muster-dev/muster/store"
)

// Decider produces a verdict from stored signals.
type Decider interface {
	Decide(ctx context.Context, in mustertype.Input) (mustertype.Decision, error)
}

// Config tunes a worker.
type Config struct {
	// Concurrency is how many designs one worker analyses at once.
	Concurrency int
	// ShutdownTimeout bounds how long in-flight analyses may finish after
	// the worker is asked to stop; unfinished designs are handed back.
	ShutdownTimeout time.Duration
	// Limits for decoding.
	Limits imaging.Limits
	// AnalysisTimeout bounds one attempt at a design (fetch, decode,
	// analyzers, policy, store); beyond it the attempt fails like any other
	// (retried with back-off, dead-lettered after MaxDeliver) and its
	// heartbeats stop, even if an analyzer ignores cancellation (default 5m).
	AnalysisTimeout time.Duration
	// Outbox is called after a transaction that wrote to the store's
	// outbox, so the relay publishes without waiting for its next pass.
	Outbox func()
	// Gate bounds the memory of decodes running at once (nil: no bound).
	Gate *imaging.Gate
	// InfraRetryBudget is how long a design may keep failing for reasons
	// of infrastructure (FailInfrastructure) before it is dead-lettered;
	// such failures do not count against MaxDeliver (default 30m). The
	// clock starts at the design's first such failure seen by this worker
	// and stops at any other outcome.
	InfraRetryBudget time.Duration
	// UnreadableBlobBudget is how long a design whose bytes cannot be read
	// (FailBlobUnreadable) is retried before it is dead-lettered with that
	// reason (default 10m).
	UnreadableBlobBudget time.Duration
	// InfraBackoff is the first delay after an infrastructure failure,
	// doubled per failure up to InfraBackoffMax (defaults 1s, 30s).
	InfraBackoff, InfraBackoffMax time.Duration
	// FetchRefresh is how often the fetcher re-reads the tenants' pending
	// counts, which is when a retry coming due is noticed (default 1s).
	FetchRefresh time.Duration
	// BlobReadTimeout bounds one read of a design's bytes (default 15s,
	// ample for the largest upload): a read that stalls — as the object
	// store's reads do for a while after a cluster node leaves or returns —
	// is abandoned and retried like any unreadable blob (after
	// InfraBackoff, within UnreadableBlobBudget) instead of holding the
	// design while the worker's heartbeat keeps its message from being
	// redelivered. It doubles with each failure of the same design, up to
	// eight times the base.
	BlobReadTimeout time.Duration
	// Blobs is where design bytes are read (default: the queue's object
	// store).
	Blobs  BlobReader
	Logger *slog.Logger
}

// BlobReader reads design bytes (the queue's object store).
type BlobReader interface {
	GetBlob(ctx context.Context, sha string) ([]byte, error)
	// HasBlob reports whether the blob's info exists.
	HasBlob(ctx context.Context, sha string) (bool, error)
}

// WithDefaults fills in zero fields.
func (c Config) WithDefaults() Config {
	if c.Concurrency <= 0 {
		c.Concurrency = 2
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 30 * time.Second
	}
	if c.AnalysisTimeout <= 0 {
		c.AnalysisTimeout = 5 * time.Minute
	}
	if c.InfraRetryBudget <= 0 {
		c.InfraRetryBudget = 30 * time.Minute
	}
	if c.UnreadableBlobBudget <= 0 {
		c.UnreadableBlobBudget = 10 * time.Minute
	}
	if c.InfraBackoff <= 0 {
		c.InfraBackoff = time.Second
	}
	if c.InfraBackoffMax <= 0 {
		c.InfraBackoffMax = 30 * time.Second
	}
	if c.BlobReadTimeout <= 0 {
		c.BlobReadTimeout = 15 * time.Second
	}
	c.Limits = c.Limits.WithDefaults()
	if c.Outbox == nil {
		c.Outbox = func() {}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Worker runs analyses.
type Worker struct {
	cfg       Config
	store     *store.Store
	queue     *queue.Queue
	analyzers []analyzers.Analyzer
	decider   Decider
	metrics   *metrics.Metrics

	mu sync.Mutex
	// retrying holds designs failing for infrastructure or unreadable
	// blobs: since when, and how often (the back-off).
	retrying map[string]*retryState
}

type retryState struct {
	since time.Time
	n     int
}

// maxRetrying bounds Worker.retrying; beyond it a design's clock is not
// kept (it keeps retrying, never dead-lettered early).
const maxRetrying = 100_000

// New returns a worker.
func New(cfg Config, st *store.Store, q *queue.Queue, as []analyzers.Analyzer, d Decider, m *metrics.Metrics) (*Worker, error) {
	if st == nil || q == nil || d == nil || m == nil {
		return nil, errors.New("workers: store, queue, decider and metrics are required")
	}
	if len(as) == 0 {
		return nil, errors.New("workers: at least one analyzer is required")
	}
	seen := map[string]bool{}
	for _, a := range as {
		if seen[a.Name()] {
			return nil, fmt.Errorf("workers: analyzer %q configured twice", a.Name())
		}
		seen[a.Name()] = true
	}
	cfg = cfg.WithDefaults()
	if cfg.Blobs == nil {
		cfg.Blobs = q
	}
	return &Worker{cfg: cfg, store: st, queue: q, analyzers: as, decider: d, metrics: m, retrying: map[string]*retryState{}}, nil
}

// Run consumes designs until ctx is cancelled, then stops fetching and lets
// in-flight analyses finish (up to ShutdownTimeout) before returning.
func (w *Worker) Run(ctx context.Context) error {
	// Work runs on a context that outlives ctx by ShutdownTimeout.
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	// Designs are taken one at a time, when a slot is free, from the
	// tenants with work in turn: no tenant's backlog starves another's,
	// and no message waits in a local buffer while its ack deadline runs.
	fetch, err := w.queue.NewFetcher(ctx, queue.FetcherConfig{RefreshEvery: w.cfg.FetchRefresh})
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped while starting
		}
		return fmt.Errorf("worker: %w", err)
	}
	defer fetch.Close()
	w.cfg.Logger.Info("worker started", "concurrency", w.cfg.Concurrency, "analyzers", len(w.analyzers))
	sem := make(chan struct{}, w.cfg.Concurrency)
	var wg sync.WaitGroup
loop:
	for {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			break loop
		}
		msg, err := fetch.Next(ctx)
		if err != nil {
			<-sem
			if ctx.Err() != nil {
				break loop
			}
			w.cfg.Logger.Warn("worker: next message", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			w.handle(workCtx, msg)
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(w.cfg.ShutdownTimeout):
		w.cfg.Logger.Warn("worker: shutdown timeout, handing back in-flight designs")
		cancelWork()
		<-done
	}
	w.cfg.Logger.Info("worker stopped")
	return nil
}

// permanent marks failures that retrying cannot fix.
func permanent(err error) error { return classed(FailPermanent, err) }

func (w *Worker) handle(ctx context.Context, msg jetstream.Msg) {
	meta, err := msg.Metadata()
	if err != nil {
		w.cfg.Logger.Error("worker: message without metadata", "err", err)
		_ = msg.Term()
		return
	}
	var sub queue.Submitted
	if err := json.Unmarshal(msg.Data(), &sub); err != nil || sub.DesignID == "" {
		w.metrics.Failures.WithLabelValues("invalid_message").Inc()
		w.cfg.Logger.Error("worker: invalid message, dead-lettering", "seq", meta.Sequence.Stream, "err", err)
		_ = w.queue.PublishDead(ctx, queue.DeadLetter{Reason: "invalid message: " + errString(err, "no design_id"), StreamSeq: meta.Sequence.Stream, At: time.Now(), Original: msg.Data()})
		_ = msg.TermWithReason("invalid message")
		return
	}
	delivery := int(meta.NumDelivered)
	log := w.cfg.Logger.With("design", sub.DesignID, "delivery", delivery)
	w.metrics.StageSeconds.WithLabelValues("queue").Observe(time.Since(meta.Timestamp).Seconds())

	// Heartbeat so a long analysis is not redelivered while it runs.
	hbCtx, stopHB := context.WithCancel(ctx)
	defer stopHB()
	go func() {
		t := time.NewTicker(w.queue.Config().AckWait / 3)
		defer t.Stop()
		for {
			select {
			case <-hbCtx.Done():
				return
			case <-t.C:
				_ = msg.InProgress()
			}
		}
	}()

	var attempts atomic.Int32 // analysis attempts, set once the analysis starts
	err = w.analyseWithin(ctx, sub, &attempts, log)
	stopHB()
	if ctx.Err() != nil && err != nil {
		// Shutting down: hand the design back at once.
		log.Info("worker: analysis interrupted by shutdown, handing back")
		_ = msg.Nak()
		return
	}
	class := Classify(err)
	if err == nil || (class != FailInfrastructure && class != FailBlobUnreadable) {
		w.forgetRetry(sub.DesignID)
	}
	if err == nil {
		if err := msg.DoubleAck(ctx); err != nil {
			log.Warn("worker: ack", "err", err) // redelivery will find the design decided
		}
		return
	}
	maxAttempts := w.queue.Config().MaxDeliver
	switch class {
	case FailPermanent:
		w.deadLetter(ctx, sub, int(attempts.Load()), meta.Sequence.Stream, err.Error(), log)
		_ = msg.TermWithReason("dead-lettered")
	case FailInfrastructure, FailBlobUnreadable:
		budget := w.cfg.InfraRetryBudget
		if class == FailBlobUnreadable {
			budget = w.cfg.UnreadableBlobBudget
		}
		since, n := w.noteRetry(sub.DesignID)
		if failing := time.Since(since); failing > budget {
			w.forgetRetry(sub.DesignID)
			w.deadLetter(ctx, sub, int(attempts.Load()), meta.Sequence.Stream,
				fmt.Sprintf("%s: still failing after %s (budget %s): %v", class, failing.Round(time.Second), budget, err), log)
			_ = msg.TermWithReason("dead-lettered")
			return
		}
		w.metrics.Failures.WithLabelValues(string(class)).Inc()
		delay := min(w.cfg.InfraBackoff<<min(n-1, 20), w.cfg.InfraBackoffMax)
		log.Warn("worker: "+string(class)+" failure, will retry (not counted as an analysis attempt)", "err", err, "delay", delay, "failing_for", time.Since(since).Round(time.Millisecond))
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		_ = w.store.RecordFailure(rctx, sub.DesignID, int(attempts.Load()), string(class)+": "+err.Error())
		cancel()
		_ = msg.NakWithDelay(delay)
	default:
		n := int(attempts.Load())
		if n == 0 {
			// Failed before the analysis started (counted): count the
			// delivery instead, so a failure there cannot loop forever.
			n = delivery
		}
		if n >= maxAttempts {
			w.deadLetter(ctx, sub, n, meta.Sequence.Stream, err.Error(), log)
			_ = msg.TermWithReason("dead-lettered")
			return
		}
		w.metrics.Failures.WithLabelValues("retry").Inc()
		delay := w.queue.Config().BackoffFor(n)
		log.Warn("worker: analysis failed, will retry", "err", err, "attempt", n, "delay", delay)
		_ = w.store.RecordFailure(ctx, sub.DesignID, n, err.Error())
		_ = msg.NakWithDelay(delay)
	}
}

// noteRetry records one more infrastructure (or unreadable-blob) failure
// of a design and returns since when it has been failing and how often.
func (w *Worker) noteRetry(id string) (time.Time, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.retrying[id]
	if r == nil {
		if len(w.retrying) >= maxRetrying/10 {
			// Designs another worker finished (or dead-lettered) leave
			// their entry here: drop those far past any budget.
			for k, v := range w.retrying {
				if time.Since(v.since) > 2*max(w.cfg.InfraRetryBudget, w.cfg.UnreadableBlobBudget) {
					delete(w.retrying, k)
				}
			}
		}
		r = &retryState{since: time.Now()}
		if len(w.retrying) < maxRetrying {
			w.retrying[id] = r
		}
	}
	r.n++
	return r.since, r.n
}

// retryCount returns how often a design has failed for infrastructure or
// unreadable blobs so far (0 if it is not retrying).
func (w *Worker) retryCount(id string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	if r := w.retrying[id]; r != nil {
		return r.n
	}
	return 0
}

func (w *Worker) forgetRetry(id string) {
	w.mu.Lock()
	delete(w.retrying, id)
	w.mu.Unlock()
}

func (w *Worker) deadLetter(ctx context.Context, sub queue.Submitted, attempts int, seq uint64, reason string, log *slog.Logger) {
	w.metrics.Failures.WithLabelValues("dead_letter").Inc()
	log.Error("worker: dead-lettering design", "reason", reason)
	if err := w.queue.PublishDead(ctx, queue.DeadLetter{Submitted: sub, Reason: reason, Attempts: attempts, StreamSeq: seq, At: time.Now()}); err != nil {
		log.Error("worker: publish dead letter", "err", err)
	}
	// The design.failed event is committed with the status (outbox).
	changed, err := w.store.MarkFailed(ctx, sub.DesignID, reason)
	if err != nil {
		log.Error("worker: mark failed", "err", err)
		return
	}
	if changed {
		w.cfg.Outbox()
	}
}

// analyseWithin runs process under the analysis deadline. An analyzer that
// ignores cancellation is abandoned a moment after the deadline (its
// goroutine ends when it returns; a late RecordResult finds the design
// decided or failed and writes nothing), so a hung analysis can neither be
// heartbeated forever nor run twice at once for long.
func (w *Worker) analyseWithin(ctx context.Context, sub queue.Submitted, attempts *atomic.Int32, log *slog.Logger) error {
	pctx, cancel := context.WithTimeout(ctx, w.cfg.AnalysisTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- w.process(pctx, sub, attempts, log) }()
	grace := min(max(w.cfg.AnalysisTimeout/10, 100*time.Millisecond), 10*time.Second)
	var err error
	select {
	case err = <-done:
	case <-time.After(w.cfg.AnalysisTimeout + grace):
		err = context.DeadlineExceeded
	}
	if err != nil && ctx.Err() == nil && pctx.Err() != nil {
		w.metrics.Failures.WithLabelValues("deadline").Inc()
		// Whatever stalled (an analyzer, or a service), the attempt is over
		// and counted: a hung analysis must not be retried forever.
		return classed(FailAnalysis, fmt.Errorf("analysis did not finish within %s: %w", w.cfg.AnalysisTimeout, err))
	}
	return err
}

// process analyses one design and records its verdict. attempts is set to
// the design's analysis attempts (this one included) once it starts.
func (w *Worker) process(ctx context.Context, sub queue.Submitted, attempts *atomic.Int32, log *slog.Logger) (err error) {
	defer func() {
		if r := recover(); r != nil {
			log.Error("worker: panic in analysis", "panic", r, "stack", string(debug.Stack()))
			err = classed(FailAnalysis, fmt.Errorf("panic: %v", r))
		}
	}()
	d, err := w.store.DesignByID(ctx, sub.DesignID)
	if errors.Is(err, store.ErrNotFound) {
		return permanent(fmt.Errorf("design %s does not exist", sub.DesignID))
	}
	if err != nil {
		return infra(err)
	}
	if d.Status == store.StatusDecided || d.Status == store.StatusFailed {
		// A redelivery after the verdict was committed: its event was
		// committed with it (outbox); acknowledge without work.
		return nil
	}
	if max := w.queue.Config().MaxDeliver; d.Attempts >= max {
		// Its analysis started that often and never reported: the workers
		// running it died (kill -9, out of memory) — do not start again.
		attempts.Store(int32(d.Attempts))
		return permanent(fmt.Errorf("analysis started %d times and never finished (worker lost)", d.Attempts))
	}
	sub.TenantID = d.TenantID

	t0 := time.Now()
	data, err := w.fetchBlob(ctx, d.ID, d.SHA256)
	if err != nil {
		return err
	}
	w.metrics.StageSeconds.WithLabelValues("fetch").Observe(time.Since(t0).Seconds())

	// The analysis proper starts here and is counted.
	d, err = w.store.StartAnalysis(ctx, sub.DesignID)
	if errors.Is(err, store.ErrNotFound) {
		return permanent(fmt.Errorf("design %s does not exist", sub.DesignID))
	}
	if err != nil {
		return infra(err)
	}
	if d.Status == store.StatusDecided || d.Status == store.StatusFailed {
		return nil
	}
	attempts.Store(int32(d.Attempts))

	t0 = time.Now()
	img, err := w.cfg.Gate.Decode(ctx, data, d.MediaType, w.cfg.Limits)
	if imaging.IsInputError(err) {
		return permanent(fmt.Errorf("decode design %s: %w", d.ID, err))
	}
	if err != nil {
		return fmt.Errorf("decode design %s: %w", d.ID, err)
	}
	w.metrics.StageSeconds.WithLabelValues("decode").Observe(time.Since(t0).Seconds())

	ad := &analyzers.Design{ID: d.ID, TenantID: d.TenantID, SHA256: d.SHA256, Product: d.Product, Markets: d.Markets, Title: d.Title, Tags: d.Tags, Description: d.Description, Image: img}
	t0 = time.Now()
	analyses, findings, versions, err := Analyze(ctx, w.analyzers, ad, w.metrics)
	if err != nil {
		return classed(FailAnalysis, err)
	}
	w.metrics.StageSeconds.WithLabelValues("analyze").Observe(time.Since(t0).Seconds())

	t0 = time.Now()
	in := mustertype.Input{TenantID: d.TenantID, DesignID: d.ID, Product: d.Product, Markets: d.Markets, Title: d.Title, Tags: d.Tags,
		Analyses: map[string]json.RawMessage{}, Findings: findings}
	for _, a := range analyses {
		in.Analyses[a.Analyzer] = a.Result
	}
	dec, err := w.decider.Decide(ctx, in)
	if err != nil {
		return classed(FailAnalysis, fmt.Errorf("decide design %s: %w", d.ID, err))
	}
	versions["policy"] = dec.PolicyVersion
	w.metrics.StageSeconds.WithLabelValues("policy").Observe(time.Since(t0).Seconds())

	t0 = time.Now()
	v, recorded, err := w.store.RecordResult(ctx, d.ID, analyses, findings, dec, versions)
	if err != nil {
		return infra(err)
	}
	w.metrics.StageSeconds.WithLabelValues("store").Observe(time.Since(t0).Seconds())
	if recorded {
		// The verdict.recorded event was committed with the verdict; the
		// relay publishes it now (or after a crash, on its next pass).
		w.cfg.Outbox()
		w.metrics.Verdicts.WithLabelValues(v.Outcome).Inc()
		log.Info("verdict recorded", "outcome", v.Outcome, "policy", v.PolicyVersion, "attempt", d.Attempts)
	}
	return nil
}

// fetchBlob reads a design's bytes and checks them against their sha256.
// A read that fails while the object store answers for the blob's info
// (or returns other bytes, or finds no such blob) is FailBlobUnreadable;
// one that fails because the object store is unavailable is
// FailInfrastructure.
func (w *Worker) fetchBlob(ctx context.Context, designID, sha string) ([]byte, error) {
	// A read that stalls (seen after a cluster node's return) is abandoned
	// after BlobReadTimeout (longer for a design that failed before) and
	// retried, instead of holding the attempt until the analysis deadline.
	bctx, cancel := context.WithTimeout(ctx, w.cfg.BlobReadTimeout<<min(w.retryCount(designID), 3))
	data, err := w.cfg.Blobs.GetBlob(bctx, sha)
	cancel()
	if err == nil {
		if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != sha {
			return nil, unreadable(sha, fmt.Errorf("its %d bytes do not match their sha256", len(data)))
		}
		return data, nil
	}
	if ctx.Err() != nil {
		return nil, err
	}
	if errors.Is(err, jetstream.ErrObjectNotFound) || errors.Is(err, jetstream.ErrDigestMismatch) {
		return nil, unreadable(sha, err)
	}
	// Is the store answering? Then this blob is the problem.
	ictx, cancel := context.WithTimeout(ctx, 5*time.Second)
	ok, ierr := w.cfg.Blobs.HasBlob(ictx, sha)
	cancel()
	switch {
	case ierr == nil && ok:
		return nil, unreadable(sha, fmt.Errorf("its info exists but a read failed: %w", err))
	case ierr == nil:
		return nil, unreadable(sha, fmt.Errorf("no such blob: %w", err))
	}
	return nil, classed(FailInfrastructure, fmt.Errorf("get blob %s: %w (object store: %v)", sha, err, ierr))
}

// Analyze runs every analyzer on a design and collects what the store needs:
// the analyses (JSON results with versions and durations), the findings
// (tagged with their analyzer) and the versions behind them. It is shared by
// the worker and `muster scan`.
func Analyze(ctx context.Context, as []analyzers.Analyzer, d *analyzers.Design, m *metrics.Metrics) ([]store.Analysis, []mustertype.Finding, map[string]string, error) {
	var out []store.Analysis
	var findings []mustertype.Finding
	versions := map[string]string{}
	for _, a := range as {
		t := time.Now()
		res, err := a.Analyze(ctx, d)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("analyzer %s on design %s: %w", a.Name(), d.ID, err)
		}
		dur := time.Since(t)
		if m != nil {
			m.AnalyzerSeconds.WithLabelValues(a.Name()).Observe(dur.Seconds())
		}
		b, err := json.Marshal(res.Data)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("analyzer %s: encode result: %w", a.Name(), err)
		}
		out = append(out, store.Analysis{Analyzer: a.Name(), Version: a.Version(), Result: b, DurationMS: float64(dur.Microseconds()) / 1000})
		versions["analyzer:"+a.Name()] = a.Version()
		for k, v := range res.Versions {
			versions[k] = v
		}
		for _, f := range res.Findings {
			f.Analyzer = a.Name()
			findings = append(findings, f)
		}
	}
	return out, findings, versions, nil
}

func errString(err error, def string) string {
	if err == nil {
		return def
	}
	return err.Error()
}
