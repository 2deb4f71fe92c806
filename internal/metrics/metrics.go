// Package metrics defines Muster's Prometheus collectors on a registry owned
// by the caller (no global registry).
package metrics

import (
	"net/http"

	"context"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics holds the collectors.
type Metrics struct {
	Registry        *prometheus.Registry
	Submissions     *prometheus.CounterVec
	Verdicts        *prometheus.CounterVec
	Failures        *prometheus.CounterVec
	AnalyzerSeconds *prometheus.HistogramVec
	StageSeconds    *prometheus.HistogramVec
	HTTPRequests    *prometheus.CounterVec
	HTTPSeconds     *prometheus.HistogramVec
	Webhooks        *prometheus.CounterVec
	// ReviewDecisions counts human decisions by queue and reviewer.
	ReviewDecisions *prometheus.CounterVec
	// ReviewClaims counts claims by queue.
	ReviewClaims *prometheus.CounterVec
	// ReviewClaimToDecision and ReviewCreateToDecision are the review
	// latencies (seconds) by queue.
	ReviewClaimToDecision  *prometheus.HistogramVec
	ReviewCreateToDecision *prometheus.HistogramVec
	// ReviewSLABreaches counts items decided after their queue's SLA.
	ReviewSLABreaches *prometheus.CounterVec
	RateLimited       *prometheus.CounterVec
}

// New creates and registers the collectors (plus Go and process collectors).
func New() *Metrics {
	r := prometheus.NewRegistry()
	buckets := []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
	m := &Metrics{
		Registry: r,
		Submissions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "muster_submissions_total", Help: "Design submissions by result (created, duplicate, rejected).",
		}, []string{"result"}),
		Verdicts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "muster_verdicts_total", Help: "Verdicts recorded, by strictest outcome.",
		}, []string{"outcome"}),
		Failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "muster_analysis_failures_total", Help: "Analysis failures by disposition (retry, dead_letter, invalid_message).",
		}, []string{"disposition"}),
		AnalyzerSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "muster_analyzer_seconds", Help: "Time per analyzer run.", Buckets: buckets,
		}, []string{"analyzer"}),
		StageSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "muster_stage_seconds", Help: "Time per pipeline stage (queue, fetch, decode, analyze, policy, store).", Buckets: buckets,
		}, []string{"stage"}),
		HTTPRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "muster_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		HTTPSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "muster_http_request_seconds", Help: "HTTP request latency by route.", Buckets: buckets,
		}, []string{"route"}),
		Webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "muster_webhook_deliveries_total", Help: "Webhook delivery attempts by result (ok, error, gave_up; deferred: a busy tenant's event handed back, not an attempt).",
		}, []string{"result"}),
		ReviewDecisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "muster_review_decisions_total", Help: "Human review decisions by queue and reviewer.",
		}, []string{"queue", "reviewer"}),
		ReviewClaims: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "muster_review_claims_total", Help: "Review items claimed, by queue.",
		}, []string{"queue"}),
		ReviewClaimToDecision: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "muster_review_claim_to_decision_seconds", Help: "Time from the latest claim of an item to its decision.", Buckets: reviewBuckets,
		}, []string{"queue"}),
		ReviewCreateToDecision: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "muster_review_create_to_decision_seconds", Help: "Time from an item's creation to its decision.", Buckets: reviewBuckets,
		}, []string{"queue"}),
		ReviewSLABreaches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "muster_review_sla_breaches_total", Help: "Review items decided after their queue's SLA.",
		}, []string{"queue"}),
		RateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "muster_rate_limited_total", Help: "Requests refused with 429 for a tenant's request rate, by tier.",
		}, []string{"tier"}),
	}
	r.MustRegister(m.ReviewDecisions, m.ReviewClaims, m.ReviewClaimToDecision, m.ReviewCreateToDecision, m.ReviewSLABreaches)
	r.MustRegister(m.Submissions, m.Verdicts, m.Failures, m.AnalyzerSeconds, m.StageSeconds, m.HTTPRequests, m.HTTPSeconds, m.Webhooks, m.RateLimited,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// reviewBuckets span seconds to days: review is human-paced.
var reviewBuckets = []float64{5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 8 * 3600, 24 * 3600, 72 * 3600, 7 * 24 * 3600}

// QueueGauge is one review queue's state at scrape time.
type QueueGauge struct {
	Queue string
	// Pending items are open and not leased; Claimed are leased.
	Pending, Claimed int
	// OldestReadySeconds is the age of the oldest pending item (0: none).
	OldestReadySeconds float64
	// OverSLA counts open items older than the queue's SLA.
	OverSLA int
}

// RegisterReviewQueues exports per-queue review gauges read by read at
// every scrape: muster_review_pending, muster_review_claimed,
// muster_review_oldest_ready_seconds and muster_review_over_sla.
func (m *Metrics) RegisterReviewQueues(read func(ctx context.Context) ([]QueueGauge, error)) {
	m.Registry.MustRegister(&reviewCollector{read: read})
}

type reviewCollector struct {
	read func(ctx context.Context) ([]QueueGauge, error)
}

var (
	reviewPendingDesc = prometheus.NewDesc("muster_review_pending", "Open review items not claimed, by queue.", []string{"queue"}, nil)
	reviewClaimedDesc = prometheus.NewDesc("muster_review_claimed", "Review items under a live lease, by queue.", []string{"queue"}, nil)
	reviewOldestDesc  = prometheus.NewDesc("muster_review_oldest_ready_seconds", "Age of the oldest review item waiting to be claimed, by queue.", []string{"queue"}, nil)
	reviewOverSLADesc = prometheus.NewDesc("muster_review_over_sla", "Open review items older than their queue's SLA.", []string{"queue"}, nil)
)

// Describe implements prometheus.Collector.
func (c *reviewCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- reviewPendingDesc
	ch <- reviewClaimedDesc
	ch <- reviewOldestDesc
	ch <- reviewOverSLADesc
}

// Collect implements prometheus.Collector; a failed read exports nothing.
func (c *reviewCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	qs, err := c.read(ctx)
	if err != nil {
		return
	}
	for _, q := range qs {
		ch <- prometheus.MustNewConstMetric(reviewPendingDesc, prometheus.GaugeValue, float64(q.Pending), q.Queue)
		ch <- prometheus.MustNewConstMetric(reviewClaimedDesc, prometheus.GaugeValue, float64(q.Claimed), q.Queue)
		ch <- prometheus.MustNewConstMetric(reviewOldestDesc, prometheus.GaugeValue, q.OldestReadySeconds, q.Queue)
		ch <- prometheus.MustNewConstMetric(reviewOverSLADesc, prometheus.GaugeValue, float64(q.OverSLA), q.Queue)
	}
}

// Handler serves the metrics in the Prometheus text format. Muster serves
// it on its own address (MUSTER_METRICS_ADDR), never on the API's.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}
