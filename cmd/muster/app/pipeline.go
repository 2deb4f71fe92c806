// Package pipeline assembles Muster's parts — store, JetStream layout, API,
// workers, webhook sender — from a configuration and runs the ones a process
// is meant to run. `muster run`, `serve` and `worker` and the end-to-end
// tests all build the pipeline here, the same way.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/net/netutil"

	"github.com/muster-dev/muster/accounts"
	"github.com/muster-dev/muster/analyzers"
	"github.com/muster-dev/muster/api"
	"github.com/muster-dev/muster/bank"
	"github.com/muster-dev/muster/bank/bankhttp"
	"github.com/muster-dev/muster/console"
	"github.com/muster-dev/muster/internal/config"
	"github.com/muster-dev/muster/internal/imaging"
	"github.com/muster-dev/muster/internal/metrics"
	"github.com/muster-dev/muster/outbox"
	"github.com/muster-dev/muster/policy"
	"github.com/muster-dev/muster/policy/policyhttp"
	"github.com/muster-dev/muster/queue"
	"github.com/muster-dev/muster/review"
	"github.com/muster-dev/muster/review/reviewhttp"
	"github.com/muster-dev/muster/store"
	"github.com/muster-dev/muster/webhook"
	"github.com/muster-dev/muster/workers"
)

// Options choose what a process runs.
type Options struct {
	Config    config.Config
	Logger    *slog.Logger
	Analyzers []analyzers.Analyzer
	// Decider decides verdicts; nil: the live policy in PostgreSQL.
	Decider workers.Decider
	// Serve the HTTP API on Listener (or Config.HTTPAddr when nil).
	Serve    bool
	Listener net.Listener
	// MetricsListener serves /metrics (or Config.MetricsAddr when nil:
	// "api" beside the API, "off" nowhere, else its own address), in any
	// process, workers included.
	MetricsListener net.Listener
	// Work runs the analysis workers and the webhook sender.
	Work bool
	// QueueConfig overrides the JetStream settings derived from Config.
	QueueConfig *queue.Config
	// Accounts overrides the console accounts' settings (tests: cheap
	// password hashing).
	Accounts *accounts.Config
	// Console overrides the console's settings (tests: a fast heartbeat).
	Console *console.Config
	// WebhookConfig overrides the webhook settings derived from Config
	// (Guard and Logger are always set from Config).
	WebhookConfig *webhook.Config
	// NoRelay leaves the outbox unpublished, as if the process died right
	// after every commit (tests of crash recovery).
	NoRelay bool
	// Worker, if set, adjusts the worker's settings after they are derived
	// from Config (tests: retry budgets, a fault-injecting blob reader).
	Worker func(*workers.Config)
}

// Pipeline is an assembled process.
type Pipeline struct {
	opts    Options
	Store   *store.Store
	Queue   *queue.Queue
	Metrics *metrics.Metrics
	Policy  *policy.Store
	// Jobs runs the policy's durable jobs in PostgreSQL (backtests and
	// re-decisions) in every process that serves or works.
	Jobs   *policy.JobRunner
	Review *review.Service
	Banks  *bank.Store
	API    *api.Server
	// Accounts are the console's users and sessions; Console the web
	// console served beside the API at /console/.
	Accounts *accounts.Service
	Console  *console.Server
	Worker   *workers.Worker
	Webhook  *webhook.Sender
	Relay    *outbox.Relay
}

// New sets up the JetStream layout and builds the parts.
func New(ctx context.Context, pool *pgxpool.Pool, nc *nats.Conn, opts Options) (*Pipeline, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	cfg := opts.Config
	qc := queue.Config{Replicas: cfg.NATSReplicas, AckWait: cfg.AckWait, MaxDeliver: cfg.MaxDeliver}
	if opts.QueueConfig != nil {
		qc = *opts.QueueConfig
	}
	if qc.Logger == nil {
		qc.Logger = opts.Logger
	}
	q, err := queue.Setup(ctx, nc, qc)
	if err != nil {
		return nil, err
	}
	st := NewStore(pool, cfg, opts.Logger)
	p := &Pipeline{opts: opts, Store: st, Queue: q, Metrics: metrics.New(), Banks: bank.NewStore(pool, bank.NATSAnnouncer{Conn: nc})}
	jobsDone := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "muster_jobs_finished_total",
		Help: "Durable policy jobs (backtest, redecide_policy, redecide_licence) finished in this process, by final status."}, []string{"kind", "status"})
	p.Metrics.Registry.MustRegister(jobsDone)
	p.Policy = policy.NewStore(pool, st, policy.Config{Logger: opts.Logger, Licences: p.Banks,
		OnJobDone: func(kind, status string) { jobsDone.WithLabelValues(kind, status).Inc() }})
	p.Relay = outbox.New(outbox.Config{Logger: opts.Logger}, st, q)
	kick := p.Relay.Kick
	if opts.NoRelay {
		kick = func() {}
	}
	registerQueueGauges(p.Metrics, q)
	registerJobGauges(p.Metrics, p.Policy)
	p.Jobs = p.Policy.NewJobRunner(policy.BacktestConfig{Logger: opts.Logger})
	p.Review = review.New(st, kick, p.Metrics, ReviewConfig(cfg, opts.Logger))
	p.Metrics.RegisterReviewQueues(p.Review.QueueGauges)
	gate := imaging.NewGate(cfg.DecodeBudget)
	p.API = api.New(api.Config{Limits: cfg.Limits(), Gate: gate, WebhookGuard: cfg.WebhookGuard(), Tiers: Tiers(cfg), Outbox: kick,
		NoMetrics: opts.MetricsListener != nil || (cfg.MetricsAddr != "" && cfg.MetricsAddr != "api"), Logger: opts.Logger}, p.Store, q, p.Metrics,
		policyhttp.Routes(p.Policy, q, opts.Logger, p.Jobs.Kick),
		bankhttp.Routes(p.Banks, bankhttp.Config{Logger: opts.Logger, OnLicence: p.licenceChanged}),
		reviewhttp.Routes(p.Review),
		webhook.Routes(webhook.NewLog(pool)))

	acfg := accounts.Config{}
	if opts.Accounts != nil {
		acfg = *opts.Accounts
	}
	p.Accounts = accounts.New(pool, acfg)
	ccfg := console.Config{SecureCookies: cfg.ConsoleSecureCookies, Logger: opts.Logger}
	if opts.Console != nil {
		ccfg = *opts.Console
		ccfg.Logger = opts.Logger
	}
	p.Console, err = console.New(ccfg,
		console.Deps{Accounts: p.Accounts, Store: p.Store, Blobs: q, Review: p.Review, References: bankReferences{p.Banks},
			Legal: &console.Legal{Policy: p.Policy, Banks: p.Banks, LicenceChanged: func(ctx context.Context, actor, tenantID, bankName, entryID string) error {
				_, err := p.licenceChanged(ctx, actor, tenantID, bankName, entryID)
				return err
			}, KickBacktests: p.Jobs.Kick}})
	if err != nil {
		return nil, err
	}
	if opts.Work {
		if opts.Decider == nil {
			d, err := policy.NewDecider(ctx, p.Policy, policy.DeciderConfig{})
			if err != nil {
				return nil, fmt.Errorf("policy: %w", err)
			}
			opts.Decider = d
		}
		wcfg := workers.Config{Concurrency: cfg.Concurrency, ShutdownTimeout: cfg.ShutdownGrace, AnalysisTimeout: cfg.AnalysisTimeout, InfraRetryBudget: cfg.InfraRetryBudget, Limits: cfg.Limits(), Gate: gate, Outbox: kick, Blobs: q, Logger: opts.Logger}
		if opts.Worker != nil {
			opts.Worker(&wcfg)
		}
		p.Worker, err = workers.New(wcfg, p.Store, q, opts.Analyzers, opts.Decider, p.Metrics)
		if err != nil {
			return nil, err
		}
		wc := webhook.Config{Concurrency: cfg.WebhookConcurrency, PerTenant: cfg.WebhookPerTenant}
		if opts.WebhookConfig != nil {
			wc = *opts.WebhookConfig
		}
		wc.Guard, wc.Logger = cfg.WebhookGuard(), opts.Logger
		p.Webhook = webhook.New(wc, p.Store, q, p.Metrics)
	}
	return p, nil
}

// ReviewConfig is the review service's configuration from the process's
// (a QA rate of 0 turns sampling off).
func ReviewConfig(cfg config.Config, log *slog.Logger) review.Config {
	cfg = cfg.WithDefaults()
	qa := cfg.ReviewQARate
	if qa == 0 {
		qa = -1
	}
	return review.Config{Lease: cfg.ReviewLease, QARate: qa, Logger: log}
}

// NewStore returns the store every process that records verdicts uses:
// the review queue's hook runs inside each verdict's transaction, so a
// verdict with a market in review never exists without its review item.
func NewStore(pool *pgxpool.Pool, cfg config.Config, log *slog.Logger) *store.Store {
	return store.New(pool, store.WithVerdictHook(review.NewHook(ReviewConfig(cfg, log))))
}

// Tiers maps the configured tiers to the API's limits; nil (no limits)
// when the configuration sets none.
func Tiers(cfg config.Config) map[string]api.Tier {
	if cfg.TierFree == (config.Tier{}) && cfg.TierPaid == (config.Tier{}) {
		return nil
	}
	conv := func(t config.Tier) api.Tier {
		return api.Tier{RequestsPerSecond: t.Rate, Burst: t.Burst, MaxPending: t.Pending}
	}
	return map[string]api.Tier{store.TierFree: conv(cfg.TierFree), store.TierPaid: conv(cfg.TierPaid)}
}

// Run runs the enabled parts until ctx is cancelled, then shuts them down
// gracefully: the API stops accepting, workers drain in-flight designs.
func (p *Pipeline) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	errc := make(chan error, 4)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if ln, err := p.metricsListener(); err != nil {
		return err
	} else if ln != nil {
		msrv := &http.Server{Handler: promhttp.HandlerFor(p.Metrics.Registry, promhttp.HandlerOpts{}), ReadHeaderTimeout: 10 * time.Second}
		wg.Add(2)
		go func() {
			defer wg.Done()
			p.opts.Logger.Info("metrics listening", "addr", ln.Addr().String())
			if err := msrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				p.opts.Logger.Warn("metrics server", "err", err)
			}
		}()
		go func() {
			defer wg.Done()
			<-ctx.Done()
			_ = msrv.Close()
		}()
	}
	if p.opts.Serve {
		ln := p.opts.Listener
		if ln == nil {
			var err error
			if ln, err = net.Listen("tcp", p.opts.Config.HTTPAddr); err != nil {
				return fmt.Errorf("listen on %s: %w", p.opts.Config.HTTPAddr, err)
			}
		}
		maxConns := p.opts.Config.HTTPMaxConns
		if maxConns <= 0 {
			maxConns = 1024
		}
		ln = netutil.LimitListener(ln, maxConns)
		readTimeout := p.opts.Config.HTTPReadTimeout
		if readTimeout <= 0 {
			readTimeout = time.Minute
		}
		srv := &http.Server{Handler: p.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: readTimeout,
			MaxHeaderBytes: 64 << 10, IdleTimeout: 2 * time.Minute}
		// caches authenticated API keys while it listens for key and
		// tenant changes (store.RunAuthListener)
		wg.Go(func() { _ = p.Store.RunAuthListener(ctx, p.opts.Logger) })
		wg.Add(2)
		go func() {
			defer wg.Done()
			p.opts.Logger.Info("API listening", "addr", ln.Addr().String())
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("http: %w", err)
				cancel()
			}
		}()
		go func() {
			defer wg.Done()
			<-ctx.Done()
			sctx, c := context.WithTimeout(context.Background(), 35*time.Second) // longer than the longest wait
			defer c()
			_ = srv.Shutdown(sctx)
		}()
	}
	// The relay outlives the API and workers: what they commit while
	// draining is published before the process ends.
	relayCtx, stopRelay := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRelay()
	relayDone := make(chan struct{})
	go func() {
		defer close(relayDone)
		if !p.opts.NoRelay {
			_ = p.Relay.Run(relayCtx)
		}
	}()
	if p.opts.Serve || p.opts.Work {
		wg.Go(func() { _ = p.Jobs.Run(ctx) })
		// links the review actions' audit rows into the hash chain, off
		// their transactions (every process runs one; they take turns)
		wg.Go(func() { _ = p.Review.RunAuditChainer(ctx) })
		// links new events into the event log's hash chain, off the
		// verdicts' transactions (the same shape; they take turns)
		wg.Go(func() { _ = p.Store.RunEventChainer(ctx, p.opts.Logger) })
	}
	if p.opts.Work {
		wg.Add(3)
		go func() {
			defer wg.Done()
			if err := p.Worker.Run(ctx); err != nil {
				errc <- err
				cancel()
			}
		}()
		go func() {
			defer wg.Done()
			if err := p.Webhook.Run(ctx); err != nil {
				errc <- err
				cancel()
			}
		}()
		go func() {
			defer wg.Done()
			p.Worker.Sweep(ctx, workers.SweepConfig{})
		}()
	}
	wg.Wait()
	stopRelay()
	<-relayDone
	if !p.opts.NoRelay {
		fctx, c := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		if _, err := p.Relay.Flush(fctx); err != nil {
			p.opts.Logger.Warn("outbox: final flush (the next relay publishes the rest)", "err", err)
		}
		c()
	}
	close(errc)
	var errs []error
	for err := range errc {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// bankReferences serves bank entries' reference images to the console.
type bankReferences struct{ banks *bank.Store }

// Reference returns an entry's reference PNG.
func (b bankReferences) Reference(ctx context.Context, bankName, entryID string) ([]byte, error) {
	e, err := b.banks.Entry(ctx, bankName, entryID)
	if err != nil {
		return nil, err
	}
	return e.ReferencePNG, nil
}

// Handler is what the server serves: the console under /console/, the API
// everywhere else.
func (p *Pipeline) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/console/", p.Console)
	mux.Handle("/console", p.Console)
	mux.Handle("/", p.API)
	return mux
}

// registerQueueGauges exports the queue's backlog, in-flight count and dead
// letters, read from JetStream at scrape time.
func registerQueueGauges(m *metrics.Metrics, q *queue.Queue) {
	stat := func(f func(queue.Stats) float64) func() float64 {
		return func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			s, err := q.Stats(ctx)
			if err != nil {
				return -1
			}
			return f(s)
		}
	}
	m.Registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "muster_queue_pending", Help: "Designs waiting for a worker."},
			stat(func(s queue.Stats) float64 { return float64(s.Pending) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "muster_queue_in_flight", Help: "Designs delivered and not yet acknowledged."},
			stat(func(s queue.Stats) float64 { return float64(s.InFlight) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "muster_dead_letters", Help: "Designs in the dead-letter stream."},
			stat(func(s queue.Stats) float64 { return float64(s.DeadLetters) })),
	)
}

// licenceChanged queues the durable job that re-decides the tenant's
// designs that matched the entry, with the licence as it stands when the
// job runs, so a licence granted turns a block into allow (and a revoked
// one back) without re-analysing the images; reviewers' decisions are left
// alone. This process's job runner is woken.
func (p *Pipeline) licenceChanged(ctx context.Context, actor, tenantID, bankName, entryID string) (bankhttp.Redecision, error) {
	job, err := p.Policy.QueueLicenceRedecision(ctx, policy.Actor{Name: actor, Role: policy.RoleLegal}, tenantID, bankName, entryID)
	if err != nil {
		return bankhttp.Redecision{}, err
	}
	p.Jobs.Kick()
	p.opts.Logger.Info("licence change: re-decision queued", "tenant", tenantID, "bank", bankName, "entry", entryID, "redecision", job.ID)
	return bankhttp.Redecision{ID: job.ID, Status: job.Status, Href: policyhttp.RedecisionHref(job.ID)}, nil
}

// jobCollector exports the durable policy jobs waiting and running, and
// the oldest one's wait, read from PostgreSQL (one query) at scrape time.
type jobCollector struct {
	pol          *policy.Store
	jobs, oldest *prometheus.Desc
}

func registerJobGauges(m *metrics.Metrics, pol *policy.Store) {
	m.Registry.MustRegister(&jobCollector{pol: pol,
		jobs:   prometheus.NewDesc("muster_jobs", "Durable policy jobs queued or running, by kind (backtest, redecide_policy, redecide_licence) and status.", []string{"kind", "status"}, nil),
		oldest: prometheus.NewDesc("muster_jobs_oldest_queued_seconds", "How long the oldest queued durable policy job has waited (-1: unknown).", nil, nil)})
}

// Describe implements prometheus.Collector.
func (c *jobCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.jobs; ch <- c.oldest }

// Collect implements prometheus.Collector.
func (c *jobCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	s, err := c.pol.Stats(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, -1)
		return
	}
	for _, kind := range []string{"backtest", "redecide_policy", "redecide_licence"} {
		for _, status := range []string{policy.BacktestQueued, policy.BacktestRunning} {
			ch <- prometheus.MustNewConstMetric(c.jobs, prometheus.GaugeValue, float64(s.Jobs[[2]string{kind, status}]), kind, status)
		}
	}
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, s.OldestQueued.Seconds())
}

// metricsListener is where /metrics is served: Options.MetricsListener,
// else Config.MetricsAddr; nil when that is empty, "off" or "api" (served
// beside the API's routes).
func (p *Pipeline) metricsListener() (net.Listener, error) {
	if p.opts.MetricsListener != nil {
		return p.opts.MetricsListener, nil
	}
	addr := p.opts.Config.MetricsAddr
	if addr == "" || addr == "off" || addr == "api" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		// Another Muster process on this machine (serve beside worker)
		// serves its metrics there: this one runs without, and says so.
		p.opts.Logger.Warn("metrics address in use; this process serves no metrics (set MUSTER_METRICS_ADDR per process)", "addr", addr)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("metrics: listen on %s: %w", addr, err)
	}
	return ln, nil
}
