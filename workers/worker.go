// Package workers consumes submitted designs from JetStream, runs the
// configured analyzers, stores every analysis, asks the policy for the
// verdict and records it — acknowledging only after the result is durably
// written. Failures are retried with backoff, then dead-lettered and the
// design marked failed, never dropped.
package workers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
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
	Gate   *imaging.Gate
	Logger *slog.Logger
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
}

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
	return &Worker{cfg: cfg.WithDefaults(), store: st, queue: q, analyzers: as, decider: d, metrics: m}, nil
}

// Run consumes designs until ctx is cancelled, then stops fetching and lets
// in-flight analyses finish (up to ShutdownTimeout) before returning.
func (w *Worker) Run(ctx context.Context) error {
	// Backstop for designs whose worker died on the last attempt: the server
	// announces max deliveries (any work consumer); dead-letter them here.
	adv, err := w.queue.Conn().Subscribe(fmt.Sprintf("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.%s.*", queue.StreamDesigns), w.onMaxDeliveries(ctx))
	if err != nil {
		return fmt.Errorf("worker: advisory subscription: %w", err)
	}
	defer adv.Unsubscribe()

	// Work runs on a context that outlives ctx by ShutdownTimeout.
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	// Designs are taken one at a time, when a slot is free, from the
	// tenants with work in turn: no tenant's backlog starves another's,
	// and no message waits in a local buffer while its ack deadline runs.
	fetch, err := w.queue.NewFetcher(ctx, queue.FetcherConfig{})
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

// permanentError marks failures that retrying cannot fix.
type permanentError struct{ err error }

// Error implements error.
func (e permanentError) Error() string { return e.err.Error() }

// Unwrap returns the cause.
func (e permanentError) Unwrap() error { return e.err }

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
	attempt := int(meta.NumDelivered)
	log := w.cfg.Logger.With("design", sub.DesignID, "attempt", attempt)
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

	err = w.analyseWithin(ctx, sub, attempt, log)
	stopHB()
	switch {
	case err == nil:
		if err := msg.DoubleAck(ctx); err != nil {
			log.Warn("worker: ack", "err", err) // redelivery will find the design decided
		}
	case ctx.Err() != nil:
		// Shutting down: hand the design back at once.
		log.Info("worker: analysis interrupted by shutdown, handing back")
		_ = msg.Nak()
	default:
		var perm permanentError
		if errors.As(err, &perm) || attempt >= w.queue.Config().MaxDeliver {
			w.deadLetter(ctx, sub, attempt, meta.Sequence.Stream, err.Error(), log)
			_ = msg.TermWithReason("dead-lettered")
			return
		}
		w.metrics.Failures.WithLabelValues("retry").Inc()
		delay := w.queue.Config().BackoffFor(attempt)
		log.Warn("worker: analysis failed, will retry", "err", err, "delay", delay)
		_ = w.store.RecordFailure(ctx, sub.DesignID, attempt, err.Error())
		_ = msg.NakWithDelay(delay)
	}
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

// onMaxDeliveries dead-letters a design whose last delivery was never
// acknowledged (its worker died), then removes it from the work queue.
func (w *Worker) onMaxDeliveries(ctx context.Context) nats.MsgHandler {
	return func(m *nats.Msg) {
		var adv struct {
			StreamSeq  uint64 `json:"stream_seq"`
			Deliveries int    `json:"deliveries"`
		}
		if err := json.Unmarshal(m.Data, &adv); err != nil {
			return
		}
		stream, err := w.queue.JetStream().Stream(ctx, queue.StreamDesigns)
		if err != nil {
			return
		}
		raw, err := stream.GetMsg(ctx, adv.StreamSeq)
		if err != nil {
			return // already handled by the worker that failed it
		}
		var sub queue.Submitted
		_ = json.Unmarshal(raw.Data, &sub)
		if sub.DesignID != "" {
			w.deadLetter(ctx, sub, adv.Deliveries, adv.StreamSeq, fmt.Sprintf("not acknowledged after %d deliveries (worker lost)", adv.Deliveries), w.cfg.Logger.With("design", sub.DesignID))
		}
		_ = stream.DeleteMsg(ctx, adv.StreamSeq)
	}
}

// analyseWithin runs process under the analysis deadline. An analyzer that
// ignores cancellation is abandoned a moment after the deadline (its
// goroutine ends when it returns; a late RecordResult finds the design
// decided or failed and writes nothing), so a hung analysis can neither be
// heartbeated forever nor run twice at once for long.
func (w *Worker) analyseWithin(ctx context.Context, sub queue.Submitted, attempt int, log *slog.Logger) error {
	pctx, cancel := context.WithTimeout(ctx, w.cfg.AnalysisTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- w.process(pctx, sub, attempt, log) }()
	grace := min(max(w.cfg.AnalysisTimeout/10, 100*time.Millisecond), 10*time.Second)
	var err error
	select {
	case err = <-done:
	case <-time.After(w.cfg.AnalysisTimeout + grace):
		err = context.DeadlineExceeded
	}
	if err != nil && ctx.Err() == nil && pctx.Err() != nil {
		w.metrics.Failures.WithLabelValues("deadline").Inc()
		return fmt.Errorf("analysis did not finish within %s: %w", w.cfg.AnalysisTimeout, err)
	}
	return err
}

// process analyses one design and records its verdict.
func (w *Worker) process(ctx context.Context, sub queue.Submitted, attempt int, log *slog.Logger) (err error) {
	defer func() {
		if r := recover(); r != nil {
			log.Error("worker: panic in analysis", "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	d, err := w.store.StartAnalysis(ctx, sub.DesignID, attempt)
	if errors.Is(err, store.ErrNotFound) {
		return permanentError{fmt.Errorf("design %s does not exist", sub.DesignID)}
	}
	if err != nil {
		return err
	}
	if d.Status == store.StatusDecided || d.Status == store.StatusFailed {
		// A redelivery after the verdict was committed: its event was
		// committed with it (outbox); acknowledge without work.
		return nil
	}
	sub.TenantID = d.TenantID

	t0 := time.Now()
	// A read from the object store that stalls (seen after a cluster
	// node's return) fails within a minute and is retried, instead of
	// holding the attempt until the analysis deadline.
	bctx, cancelBlob := context.WithTimeout(ctx, time.Minute)
	data, err := w.queue.GetBlob(bctx, d.SHA256)
	cancelBlob()
	if err != nil {
		return err
	}
	w.metrics.StageSeconds.WithLabelValues("fetch").Observe(time.Since(t0).Seconds())
	t0 = time.Now()
	img, err := w.cfg.Gate.Decode(ctx, data, d.MediaType, w.cfg.Limits)
	if imaging.IsInputError(err) {
		return permanentError{fmt.Errorf("decode design %s: %w", d.ID, err)}
	}
	if err != nil {
		return fmt.Errorf("decode design %s: %w", d.ID, err)
	}
	w.metrics.StageSeconds.WithLabelValues("decode").Observe(time.Since(t0).Seconds())

	ad := &analyzers.Design{ID: d.ID, TenantID: d.TenantID, SHA256: d.SHA256, Product: d.Product, Markets: d.Markets, Title: d.Title, Tags: d.Tags, Description: d.Description, Image: img}
	t0 = time.Now()
	analyses, findings, versions, err := Analyze(ctx, w.analyzers, ad, w.metrics)
	if err != nil {
		return err
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
		return fmt.Errorf("decide design %s: %w", d.ID, err)
	}
	versions["policy"] = dec.PolicyVersion
	w.metrics.StageSeconds.WithLabelValues("policy").Observe(time.Since(t0).Seconds())

	t0 = time.Now()
	v, recorded, err := w.store.RecordResult(ctx, d.ID, analyses, findings, dec, versions)
	if err != nil {
		return err
	}
	w.metrics.StageSeconds.WithLabelValues("store").Observe(time.Since(t0).Seconds())
	if recorded {
		// The verdict.recorded event was committed with the verdict; the
		// relay publishes it now (or after a crash, on its next pass).
		w.cfg.Outbox()
		w.metrics.Verdicts.WithLabelValues(v.Outcome).Inc()
		log.Info("verdict recorded", "outcome", v.Outcome, "policy", v.PolicyVersion)
	}
	return nil
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
