// Package metrics defines Muster's Prometheus collectors on a registry owned
// by the caller (no global registry).
package metrics

import (
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
	RateLimited     *prometheus.CounterVec
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
		RateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "muster_rate_limited_total", Help: "Requests refused with 429 for a tenant's request rate, by tier.",
		}, []string{"tier"}),
	}
	r.MustRegister(m.Submissions, m.Verdicts, m.Failures, m.AnalyzerSeconds, m.StageSeconds, m.HTTPRequests, m.HTTPSeconds, m.Webhooks, m.RateLimited,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
