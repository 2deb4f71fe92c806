// Package config is Muster's one configuration path: every setting has a
// flag, an environment variable and a default, documented in `muster help`.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"

	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/muster-dev/muster/internal/imaging"
	"github.com/muster-dev/muster/internal/netguard"
)

// Config is the whole configuration.
type Config struct {
	DatabaseURL string
	// DatabaseMaxConns bounds the process's PostgreSQL connections (the
	// pool; pgx's own default, 4 on a 2-CPU machine, queued 50 reviewers'
	// claims behind each other).
	DatabaseMaxConns int
	NATSURL          string
	HTTPAddr         string
	DataDir          string
	CacheDir         string
	ModelsDir        string
	ORTLib           string
	Concurrency      int
	Analyzers        []string
	MaxBytes         int64
	MaxPixels        int64
	AckWait          time.Duration
	MaxDeliver       int
	NATSReplicas     int
	LogLevel         string
	LogFormat        string
	OrtThreads       int
	ShutdownGrace    time.Duration
	// AnalysisTimeout bounds one attempt at a design in a worker.
	AnalysisTimeout time.Duration
	// InfraRetryBudget is how long a design may keep failing because
	// PostgreSQL, the object store or NATS is unavailable before it is
	// dead-lettered; such failures are not analysis attempts.
	InfraRetryBudget time.Duration
	// MetricsAddr is where /metrics is served: "api" (on the API's
	// listener), "off", or a listen address of its own.
	MetricsAddr string
	// WebhookAllowNets lists internal networks webhooks may reach
	// (comma-separated CIDR prefixes); empty refuses every internal address.
	WebhookAllowNets string
	// ReviewLease is how long a reviewer's claim on an item lasts without a
	// heartbeat (zero: 10 minutes).
	ReviewLease time.Duration
	// ReviewQARate is the share of automated allows and blocks sampled into
	// the QA review queue, 0..1 (zero: none).
	ReviewQARate float64
	// ConsoleSecureCookies marks the console's cookies Secure on plain-HTTP
	// requests too (behind a TLS-terminating proxy).
	ConsoleSecureCookies bool
	// WebhookConcurrency and WebhookPerTenant bound deliveries in flight
	// per process and per tenant.
	WebhookConcurrency int
	WebhookPerTenant   int
	// TierFree and TierPaid are the tiers' request rates and quotas. Both
	// zero (a Config built in code) means no limits.
	TierFree, TierPaid Tier
	// DecodeBudget is how many pixels a process decodes at once (API and
	// workers each); a decode waits for its width×height in the budget.
	DecodeBudget int64
	// HTTPReadTimeout bounds reading one request, body included.
	HTTPReadTimeout time.Duration
	// HTTPMaxConns bounds the API's open connections.
	HTTPMaxConns int
}

// WithDefaults fills in zero fields that have a non-zero default (for
// configurations built in code rather than parsed).
func (c Config) WithDefaults() Config {
	if c.ReviewLease == 0 {
		c.ReviewLease = DefaultReviewLease
	}
	return c
}

// DefaultReviewLease is the default review claim lease (ROOST Coop's too).
const DefaultReviewLease = 10 * time.Minute

// Tier is one tier's limits: "rate=R,burst=B,pending=P" in a setting.
type Tier struct {
	// Rate is the sustained number of API requests per second.
	Rate float64
	// Burst is how many requests may come at once above the rate.
	Burst int
	// Pending is how many designs may wait for a verdict at once.
	Pending int
}

// String formats the tier as its setting.
func (t Tier) String() string {
	return "rate=" + strconv.FormatFloat(t.Rate, 'g', -1, 64) + ",burst=" + strconv.Itoa(t.Burst) + ",pending=" + strconv.Itoa(t.Pending)
}

// ParseTier reads "rate=R,burst=B,pending=P" (every key required).
func ParseTier(v string) (Tier, error) {
	var t Tier
	seen := map[string]bool{}
	for _, kv := range strings.Split(v, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return t, fmt.Errorf("want rate=R,burst=B,pending=P, got %q", v)
		}
		var err error
		switch k {
		case "rate":
			t.Rate, err = strconv.ParseFloat(val, 64)
		case "burst":
			t.Burst, err = strconv.Atoi(val)
		case "pending":
			t.Pending, err = strconv.Atoi(val)
		default:
			return t, fmt.Errorf("unknown key %q in %q: want rate, burst, pending", k, v)
		}
		if err != nil {
			return t, fmt.Errorf("%s: want a number, got %q", k, val)
		}
		seen[k] = true
	}
	if len(seen) != 3 {
		return t, fmt.Errorf("want rate=R,burst=B,pending=P, got %q", v)
	}
	if t.Rate <= 0 || t.Burst < 1 || t.Pending < 1 {
		return t, fmt.Errorf("rate, burst and pending must be positive, got %q", v)
	}
	return t, nil
}

// DefaultHTTPAddr is where serve listens; run uses it on loopback.
const DefaultHTTPAddr = ":8080"

// Default tiers, priced the way print-on-demand platforms meter their
// APIs: a free tier at 120 requests a minute (Printful's public limit) and
// a paid tier at 600 a minute (Printify's).
const (
	DefaultTierFree = "rate=2,burst=60,pending=100"
	DefaultTierPaid = "rate=10,burst=300,pending=5000"
)

// setting describes one configuration entry.
type setting struct {
	flag, env, def, help string
	set                  func(c *Config, v string) error
}

func settings() []setting {
	str := func(f func(c *Config) *string) func(c *Config, v string) error {
		return func(c *Config, v string) error { *f(c) = v; return nil }
	}
	integer := func(f func(c *Config) *int) func(c *Config, v string) error {
		return func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("want an integer, got %q", v)
			}
			*f(c) = n
			return nil
		}
	}
	int64v := func(f func(c *Config) *int64) func(c *Config, v string) error {
		return func(c *Config, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return fmt.Errorf("want an integer, got %q", v)
			}
			*f(c) = n
			return nil
		}
	}
	dur := func(f func(c *Config) *time.Duration) func(c *Config, v string) error {
		return func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("want a duration such as 30s, got %q", v)
			}
			*f(c) = d
			return nil
		}
	}
	float := func(f func(c *Config) *float64) func(c *Config, v string) error {
		return func(c *Config, v string) error {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return fmt.Errorf("want a number, got %q", v)
			}
			*f(c) = n
			return nil
		}
	}
	tier := func(f func(c *Config) *Tier) func(c *Config, v string) error {
		return func(c *Config, v string) error {
			t, err := ParseTier(v)
			if err != nil {
				return err
			}
			*f(c) = t
			return nil
		}
	}
	return []setting{
		{"database-url", "MUSTER_DATABASE_URL", "", "PostgreSQL URL; empty with run/scan: a local cluster in the data directory", str(func(c *Config) *string { return &c.DatabaseURL })},
		{"database-max-conns", "MUSTER_DATABASE_MAX_CONNS", "24", "most PostgreSQL connections this process opens (its pool); more requests wait for one", integer(func(c *Config) *int { return &c.DatabaseMaxConns })},
		{"nats-url", "MUSTER_NATS_URL", "", "NATS URL(s), comma-separated; empty with run: an embedded JetStream server", str(func(c *Config) *string { return &c.NATSURL })},
		{"http-addr", "MUSTER_HTTP_ADDR", DefaultHTTPAddr, "API listen address (run: 127.0.0.1:8080 unless set)", str(func(c *Config) *string { return &c.HTTPAddr })},
		{"data-dir", "MUSTER_DATA_DIR", "var/data", "where run keeps the embedded NATS and PostgreSQL data", str(func(c *Config) *string { return &c.DataDir })},
		{"cache-dir", "MUSTER_CACHE_DIR", "var/cache", "downloaded npm packages (models, ONNX Runtime, brand data)", str(func(c *Config) *string { return &c.CacheDir })},
		{"models-dir", "MUSTER_MODELS_DIR", "var/models", "converted ONNX models and their manifests", str(func(c *Config) *string { return &c.ModelsDir })},
		{"ort-lib", "MUSTER_ORT_LIB", "", "path of libonnxruntime.so; empty: the pinned one fetched into the cache", str(func(c *Config) *string { return &c.ORTLib })},
		{"concurrency", "MUSTER_CONCURRENCY", strconv.Itoa(runtime.NumCPU()), "designs analysed at once per worker process", integer(func(c *Config) *int { return &c.Concurrency })},
		{"analyzers", "MUSTER_ANALYZERS", "hash,nsfw,bank,ocr,listing", "comma-separated analyzers to run (hash, nsfw, bank, ocr, listing); one left out holds every design for review", func(c *Config, v string) error {
			c.Analyzers = nil
			for _, a := range strings.Split(v, ",") {
				if a = strings.TrimSpace(a); a != "" {
					c.Analyzers = append(c.Analyzers, a)
				}
			}
			return nil
		}},
		{"max-bytes", "MUSTER_MAX_BYTES", strconv.Itoa(imaging.DefaultMaxBytes), "largest accepted upload in bytes", int64v(func(c *Config) *int64 { return &c.MaxBytes })},
		{"max-pixels", "MUSTER_MAX_PIXELS", strconv.Itoa(imaging.DefaultMaxPixels), "largest accepted width×height, checked from the header before decoding", int64v(func(c *Config) *int64 { return &c.MaxPixels })},
		{"decode-budget", "MUSTER_DECODE_BUDGET", strconv.Itoa(imaging.DefaultDecodeBudget), "pixels decoded at once per process (API and workers each); larger decodes wait their turn", int64v(func(c *Config) *int64 { return &c.DecodeBudget })},
		{"http-read-timeout", "MUSTER_HTTP_READ_TIMEOUT", "60s", "longest time to read one request, body included (slow uploads are cut off)", dur(func(c *Config) *time.Duration { return &c.HTTPReadTimeout })},
		{"http-max-conns", "MUSTER_HTTP_MAX_CONNS", "1024", "most open API connections; more wait in the listen queue", integer(func(c *Config) *int { return &c.HTTPMaxConns })},
		{"ack-wait", "MUSTER_ACK_WAIT", "30s", "redeliver a design not acknowledged (nor heartbeated) within this time", dur(func(c *Config) *time.Duration { return &c.AckWait })},
		{"max-deliver", "MUSTER_MAX_DELIVER", "5", "analysis attempts before a design is dead-lettered and marked failed (failures of PostgreSQL, the object store or NATS are not attempts: see infra-retry-budget)", integer(func(c *Config) *int { return &c.MaxDeliver })},
		{"infra-retry-budget", "MUSTER_INFRA_RETRY_BUDGET", "30m", "how long a design is retried (back-off 1 s doubling to 30 s) while PostgreSQL, the object store or NATS is unavailable, before it is dead-lettered", dur(func(c *Config) *time.Duration { return &c.InfraRetryBudget })},
		{"nats-replicas", "MUSTER_NATS_REPLICAS", "1", "stream replicas (3 on a NATS cluster)", integer(func(c *Config) *int { return &c.NATSReplicas })},
		{"ort-threads", "MUSTER_ORT_THREADS", "0", "ONNX Runtime intra-op threads per session (0: number of CPUs)", integer(func(c *Config) *int { return &c.OrtThreads })},
		{"metrics-addr", "MUSTER_METRICS_ADDR", "127.0.0.1:9464", "where /metrics listens: an address of its own (default loopback; any process, workers included), api (beside the API, unauthenticated), or off", str(func(c *Config) *string { return &c.MetricsAddr })},
		{"analysis-timeout", "MUSTER_ANALYSIS_TIMEOUT", "5m", "longest one attempt at a design may take in a worker (then it fails, is retried, and dead-lettered after max-deliver)", dur(func(c *Config) *time.Duration { return &c.AnalysisTimeout })},
		{"shutdown-grace", "MUSTER_SHUTDOWN_GRACE", "30s", "how long in-flight work may finish on shutdown", dur(func(c *Config) *time.Duration { return &c.ShutdownGrace })},
		{"webhook-allow-nets", "MUSTER_WEBHOOK_ALLOW_NETS", "", "internal networks webhooks may reach (CIDRs, comma-separated); by default loopback, private, link-local and metadata addresses are refused", str(func(c *Config) *string { return &c.WebhookAllowNets })},
		{"review-lease", "MUSTER_REVIEW_LEASE", DefaultReviewLease.String(), "how long a reviewer's claim on an item lasts without a heartbeat; an expired claim returns the item to its queue", dur(func(c *Config) *time.Duration { return &c.ReviewLease })},
		{"review-qa-rate", "MUSTER_REVIEW_QA_RATE", "0.01", "share of automated allows and blocks sampled into the QA review queue (0..1; 0: none)", float(func(c *Config) *float64 { return &c.ReviewQARate })},
		{"console-secure-cookies", "MUSTER_CONSOLE_SECURE_COOKIES", "false", "mark console cookies Secure even on plain HTTP (set behind a TLS-terminating proxy; requests over TLS always get Secure cookies)", func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("want true or false, got %q", v)
			}
			c.ConsoleSecureCookies = b
			return nil
		}},
		{"webhook-concurrency", "MUSTER_WEBHOOK_CONCURRENCY", "32", "webhook deliveries in flight per process", integer(func(c *Config) *int { return &c.WebhookConcurrency })},
		{"webhook-per-tenant", "MUSTER_WEBHOOK_PER_TENANT", "4", "webhook deliveries in flight per tenant (a slow receiver holds only these)", integer(func(c *Config) *int { return &c.WebhookPerTenant })},
		{"tier-free", "MUSTER_TIER_FREE", DefaultTierFree, "free tier: API requests per second, burst, designs waiting for a verdict", tier(func(c *Config) *Tier { return &c.TierFree })},
		{"tier-paid", "MUSTER_TIER_PAID", DefaultTierPaid, "paid tier: API requests per second, burst, designs waiting for a verdict", tier(func(c *Config) *Tier { return &c.TierPaid })},
		{"log-level", "MUSTER_LOG_LEVEL", "info", "debug, info, warn or error", str(func(c *Config) *string { return &c.LogLevel })},
		{"log-format", "MUSTER_LOG_FORMAT", "text", "text or json", str(func(c *Config) *string { return &c.LogFormat })},
	}
}

// Parse reads defaults, then the environment, then flags, and validates.
// It returns the configuration and the remaining arguments.
func Parse(name string, args []string, getenv func(string) string, stderr io.Writer) (Config, []string, error) {
	var c Config
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	for _, s := range settings() {
		v := s.def
		if e := getenv(s.env); e != "" {
			v = e
		}
		if err := s.set(&c, v); err != nil {
			return c, nil, fmt.Errorf("%s: %w", s.env, err)
		}
		fs.Func(s.flag, s.help+" (env "+s.env+")", func(v string) error { return s.set(&c, v) })
	}
	fs.Usage = func() { Usage(stderr) }
	if err := fs.Parse(args); err != nil {
		return c, nil, err
	}
	return c, fs.Args(), c.Validate()
}

// Validate checks the values.
func (c Config) Validate() error {
	var errs []error
	if a := c.MetricsAddr; a != "" && a != "api" && a != "off" {
		if _, _, err := net.SplitHostPort(a); err != nil {
			errs = append(errs, fmt.Errorf("metrics-addr must be api, off or host:port, got %q", a))
		}
	}
	if _, err := netguard.ParseAllow(c.WebhookAllowNets); err != nil {
		errs = append(errs, fmt.Errorf("webhook-allow-nets: %w", err))
	}
	if c.WebhookConcurrency < 0 || c.WebhookPerTenant < 0 || (c.WebhookConcurrency > 0 && c.WebhookPerTenant > c.WebhookConcurrency) {
		errs = append(errs, fmt.Errorf("webhook-per-tenant (%d) must be at most webhook-concurrency (%d)", c.WebhookPerTenant, c.WebhookConcurrency))
	}
	if c.Concurrency < 1 || c.Concurrency > 256 {
		errs = append(errs, fmt.Errorf("concurrency must be 1..256, got %d", c.Concurrency))
	}
	if c.DecodeBudget < 1_000_000 {
		errs = append(errs, fmt.Errorf("decode-budget must be at least 1000000 pixels, got %d", c.DecodeBudget))
	}
	if c.HTTPReadTimeout < time.Second {
		errs = append(errs, fmt.Errorf("http-read-timeout must be at least 1s, got %v", c.HTTPReadTimeout))
	}
	if c.DatabaseMaxConns != 0 && (c.DatabaseMaxConns < 2 || c.DatabaseMaxConns > 1000) {
		errs = append(errs, fmt.Errorf("database-max-conns must be between 2 and 1000, got %d", c.DatabaseMaxConns))
	}
	if c.HTTPMaxConns < 1 {
		errs = append(errs, fmt.Errorf("http-max-conns must be at least 1, got %d", c.HTTPMaxConns))
	}
	if c.MaxBytes < 1024 {
		errs = append(errs, fmt.Errorf("max-bytes must be at least 1024, got %d", c.MaxBytes))
	}
	if c.MaxPixels < 1 {
		errs = append(errs, fmt.Errorf("max-pixels must be positive, got %d", c.MaxPixels))
	}
	if c.AckWait < time.Second {
		errs = append(errs, fmt.Errorf("ack-wait must be at least 1s, got %s", c.AckWait))
	}
	if c.MaxDeliver < 1 {
		errs = append(errs, fmt.Errorf("max-deliver must be at least 1, got %d", c.MaxDeliver))
	}
	if c.NATSReplicas != 1 && c.NATSReplicas != 3 && c.NATSReplicas != 5 {
		errs = append(errs, fmt.Errorf("nats-replicas must be 1, 3 or 5, got %d", c.NATSReplicas))
	}
	if c.ReviewLease != 0 && (c.ReviewLease < 10*time.Second || c.ReviewLease > 24*time.Hour) {
		errs = append(errs, fmt.Errorf("review-lease must be between 10s and 24h, got %s", c.ReviewLease))
	}
	if c.ReviewQARate < 0 || c.ReviewQARate > 1 {
		errs = append(errs, fmt.Errorf("review-qa-rate must be between 0 and 1, got %g", c.ReviewQARate))
	}
	if len(c.Analyzers) == 0 {
		errs = append(errs, errors.New("at least one analyzer is required"))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log-level must be debug, info, warn or error, got %q", c.LogLevel))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("log-format must be text or json, got %q", c.LogFormat))
	}
	return errors.Join(errs...)
}

// Limits returns the image limits.
func (c Config) Limits() imaging.Limits {
	return imaging.Limits{MaxBytes: c.MaxBytes, MaxPixels: c.MaxPixels}.WithDefaults()
}

// Logger builds the structured logger.
func (c Config) Logger(w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Usage prints every setting with its flag, variable and default.
func Usage(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FLAG\tENVIRONMENT\tDEFAULT\tMEANING")
	for _, s := range settings() {
		def := s.def
		if s.flag == "concurrency" {
			def = "number of CPUs"
		}
		if def == "" {
			def = "-"
		}
		fmt.Fprintf(tw, "--%s\t%s\t%s\t%s\n", s.flag, s.env, def, s.help)
	}
	tw.Flush()
}

// WebhookGuard is the guard for outbound webhook requests.
func (c Config) WebhookGuard() netguard.Guard {
	allow, _ := netguard.ParseAllow(c.WebhookAllowNets) // validated
	return netguard.Guard{Allow: allow}
}
