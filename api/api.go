// Package api serves Muster's HTTP API: design submission and verdicts for
// merchants' upload flows, health, metrics and the OpenAPI document. Every
// /v1 route is authenticated with a per-tenant API key and checked against
// the roles allowed on it; one tenant never sees another's data.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/muster-dev/muster/internal/imaging"
	"github.com/muster-dev/muster/internal/metrics"
	"github.com/muster-dev/muster/internal/netguard"
	"github.com/muster-dev/muster/queue"
	"github.com/muster-dev/muster/store"
)

// Config tunes the API.
type Config struct {
	// Limits for uploaded images (bytes, pixels).
	Limits imaging.Limits
	// Gate bounds the memory of decodes running at once (nil: no bound).
	Gate *imaging.Gate
	// MaxWait caps ?wait= (default 30s).
	MaxWait time.Duration
	// WebhookGuard refuses webhook URLs that point at internal addresses.
	WebhookGuard netguard.Guard
	// Tiers maps a tenant's tier (store.TierFree, store.TierPaid) to its
	// request rate and quota. Nil disables rate limits and quotas (tests);
	// `muster serve` and `run` always set them from the configuration. A
	// tenant on a tier missing here gets the free tier's limits.
	Tiers map[string]Tier
	// Outbox is called after a transaction that wrote to the store's
	// outbox (a submitted design), so the relay publishes at once.
	Outbox func()
	// NoMetrics leaves /metrics off the API's routes (served elsewhere, or
	// not at all).
	NoMetrics bool
	Logger    *slog.Logger
}

// Tier is one tier's limits, enforced across every API instance (the
// buckets live in PostgreSQL).
type Tier struct {
	// RequestsPerSecond is the sustained rate of authenticated requests.
	RequestsPerSecond float64
	// Burst is how many requests may come at once above that rate.
	Burst int
	// MaxPending is how many designs may wait for a verdict at once
	// (0: no quota).
	MaxPending int
}

// WithDefaults fills in zero fields.
func (c Config) WithDefaults() Config {
	c.Limits = c.Limits.WithDefaults()
	if c.MaxWait == 0 {
		c.MaxWait = 30 * time.Second
	}
	if c.Outbox == nil {
		c.Outbox = func() {}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Server is the HTTP API.
type Server struct {
	cfg     Config
	store   *store.Store
	queue   *queue.Queue
	metrics *metrics.Metrics
	mux     *http.ServeMux
	routes  []route
}

// Route is one route of the API. Packages that serve their own resources
// over the API (policy/policyhttp) build Routes and the composition root
// hands them to New, so the API core does not import them; every route goes
// through the same authentication, role check, error shape, metrics and
// OpenAPI document.
type Route struct {
	Method, Pattern string
	Roles           []string // nil: public
	Summary         string
	Handler         Handler
	// Platform routes act on platform-wide resources: only keys of the
	// platform operator's tenant may call them.
	Platform bool
	// Doc adds fields to the route's OpenAPI operation (parameters,
	// requestBody, responses).
	Doc map[string]any
}

// Handler serves one authenticated request; a returned *Error is written
// as is, store.ErrNotFound and store.ErrConflict become 404 and 409, other
// errors a logged 500.
type Handler func(w http.ResponseWriter, r *http.Request, p store.Principal) error

type route = Route

// New returns the API server with its own routes and the route groups
// other packages serve through it.
func New(cfg Config, st *store.Store, q *queue.Queue, m *metrics.Metrics, groups ...[]Route) *Server {
	s := &Server{cfg: cfg.WithDefaults(), store: st, queue: q, metrics: m, mux: http.NewServeMux()}
	anyRole := []string{store.RoleMerchant, store.RoleReviewer, store.RoleLegal, store.RoleAdmin}
	s.routes = []route{
		{"GET", "/healthz", nil, "Liveness", s.healthz, false, nil},
		{"GET", "/readyz", nil, "Readiness (database and NATS reachable)", s.readyz, false, nil},
		{"GET", "/openapi.json", nil, "This API's OpenAPI document", s.openapi, false, nil},
		{"POST", "/v1/designs", []string{store.RoleMerchant, store.RoleAdmin}, "Submit a design", s.postDesign, false, nil},
		{"GET", "/v1/designs", anyRole, "List the tenant's designs", s.listDesigns, false, nil},
		{"GET", "/v1/designs/{id}", anyRole, "Get a design and its verdict", s.getDesign, false, nil},
		{"GET", "/v1/designs/{id}/events", anyRole, "A design's event log", s.designEvents, false, nil},
		{"PUT", "/v1/webhook", []string{store.RoleAdmin}, "Set the tenant's webhook URL", s.putWebhook, false, nil},
		{"GET", "/v1/catalog", anyRole, "Markets and products", s.catalog, false, nil},
	}
	for _, g := range groups {
		s.routes = append(s.routes, g...)
	}
	for _, rt := range s.routes {
		s.mux.Handle(rt.Method+" "+rt.Pattern, s.wrap(rt))
	}
	if !s.cfg.NoMetrics {
		s.mux.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no route for " + r.Method + " " + r.URL.Path})
	})
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Error is the API's one error shape: {"error": {"code", "message"}}.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error implements error.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// BadRequest is a 400 with the given code and message.
func BadRequest(code, format string, args ...any) *Error {
	return badRequest(code, format, args...)
}

// WriteJSON writes v as indented JSON with the status.
func WriteJSON(w http.ResponseWriter, status int, v any) { writeJSON(w, status, v) }

// ReadJSON decodes a JSON body of at most 1 MiB into v, refusing unknown
// fields; a malformed body is a 400 invalid_json.
func ReadJSON(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("invalid_json", "%v", err)
	}
	return nil
}

func badRequest(code, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: code, Message: fmt.Sprintf(format, args...)}
}

func writeError(w http.ResponseWriter, e *Error) {
	writeJSON(w, e.Status, map[string]any{"error": e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

// WriteHeader records the status code for metrics.
func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

type principalKey struct{}

func (s *Server) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, code: 200}
		defer func() {
			s.metrics.HTTPRequests.WithLabelValues(rt.Pattern, fmt.Sprint(rec.code)).Inc()
			s.metrics.HTTPSeconds.WithLabelValues(rt.Pattern).Observe(time.Since(start).Seconds())
		}()
		var p store.Principal
		if rt.Roles != nil {
			var e *Error
			p, e = s.authenticate(r)
			if e == nil && rt.Platform && !p.Platform {
				e = &Error{Status: http.StatusForbidden, Code: "forbidden", Message: rt.Pattern + " is for the platform operator's keys only"}
			}
			if e == nil && !slices.Contains(rt.Roles, p.Role) {
				e = &Error{Status: http.StatusForbidden, Code: "forbidden", Message: fmt.Sprintf("role %s may not %s %s", p.Role, rt.Method, rt.Pattern)}
			}
			if e == nil {
				e = s.rateLimit(rec, r, p)
			}
			if e != nil {
				if e.Status == http.StatusUnauthorized {
					w.Header().Set("WWW-Authenticate", `Bearer realm="muster"`)
				}
				writeError(rec, e)
				return
			}
		}
		if err := rt.Handler(rec, r, p); err != nil {
			var e *Error
			if !errors.As(err, &e) {
				var mbe *http.MaxBytesError
				switch {
				case errors.As(err, &mbe):
					e = &Error{Status: http.StatusRequestEntityTooLarge, Code: imaging.CodeTooLarge, Message: fmt.Sprintf("request body exceeds %d bytes", mbe.Limit)}
				case errors.Is(err, store.ErrNotFound):
					e = &Error{Status: http.StatusNotFound, Code: "not_found", Message: err.Error()}
				case errors.Is(err, store.ErrQuota):
					rec.Header().Set("Retry-After", "10")
					e = &Error{Status: http.StatusTooManyRequests, Code: "quota_exceeded", Message: err.Error() + "; retry when some are decided"}
				case errors.Is(err, store.ErrConflict):
					e = &Error{Status: http.StatusConflict, Code: "conflict", Message: err.Error()}
				case errors.Is(err, context.Canceled):
					return
				default:
					s.cfg.Logger.Error("api: internal error", "route", rt.Pattern, "err", err)
					e = &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error"}
				}
			}
			writeError(rec, e)
		}
	})
}

// tier returns the limits of a principal's tenant, and false when limits
// are off.
func (s *Server) tier(p store.Principal) (Tier, bool) {
	if s.cfg.Tiers == nil {
		return Tier{}, false
	}
	if t, ok := s.cfg.Tiers[p.Tier]; ok {
		return t, true
	}
	return s.cfg.Tiers[store.TierFree], true
}

// rateLimit spends one request of the tenant's bucket; over the rate it is
// a 429 with Retry-After (whole seconds, rounded up). The platform
// operator's keys (its reviewers, legal, admins) each have a bucket of
// their own at the tenant's tier: one shared bucket would let 50 reviewers
// working through the API throttle each other at one person's rate.
func (s *Server) rateLimit(w http.ResponseWriter, r *http.Request, p store.Principal) *Error {
	t, ok := s.tier(p)
	if !ok || t.RequestsPerSecond <= 0 {
		return nil
	}
	bucket := "requests"
	if p.Platform {
		bucket = "requests:key:" + p.KeyID
	}
	wait, err := s.store.TakeRate(r.Context(), p.TenantID, bucket, t.RequestsPerSecond, max(t.Burst, 1))
	if err != nil {
		s.cfg.Logger.Error("api: rate limit", "err", err)
		return &Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "cannot check the request rate now"}
	}
	if wait <= 0 {
		return nil
	}
	secs := int((wait + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	s.metrics.RateLimited.WithLabelValues(p.Tier).Inc()
	return &Error{Status: http.StatusTooManyRequests, Code: "rate_limited",
		Message: fmt.Sprintf("the %s tier allows %g requests per second with bursts of %d; retry after %d s", p.Tier, t.RequestsPerSecond, t.Burst, secs)}
}

func (s *Server) authenticate(r *http.Request) (store.Principal, *Error) {
	h := r.Header.Get("Authorization")
	// The scheme is case-insensitive (RFC 9110 §11.1).
	scheme, key, ok := strings.Cut(h, " ")
	ok = ok && strings.EqualFold(scheme, "Bearer")
	if !ok || strings.TrimSpace(key) == "" {
		return store.Principal{}, &Error{Status: http.StatusUnauthorized, Code: "unauthenticated", Message: "send an API key as Authorization: Bearer <key>"}
	}
	p, err := s.store.Authenticate(r.Context(), strings.TrimSpace(key))
	if errors.Is(err, store.ErrUnauthenticated) {
		return store.Principal{}, &Error{Status: http.StatusUnauthorized, Code: "unauthenticated", Message: err.Error()}
	}
	if err != nil {
		s.cfg.Logger.Error("api: authenticate", "err", err)
		return store.Principal{}, &Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "cannot check credentials now"}
	}
	return p, nil
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request, _ store.Principal) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request, _ store.Principal) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	checks := map[string]string{"database": "ok", "nats": "ok"}
	status := http.StatusOK
	if err := s.store.Ping(ctx); err != nil {
		checks["database"], status = err.Error(), http.StatusServiceUnavailable
	}
	if !s.queue.Conn().IsConnected() {
		checks["nats"], status = "not connected", http.StatusServiceUnavailable
	}
	writeJSON(w, status, checks)
	return nil
}

func (s *Server) putWebhook(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	var body struct {
		URL string `json:"url"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 8<<10)).Decode(&body); err != nil {
		return badRequest("invalid_json", "body must be {\"url\": \"https://…\"}: %v", err)
	}
	if body.URL != "" {
		if err := s.cfg.WebhookGuard.CheckURL(r.Context(), body.URL); err != nil {
			return badRequest("invalid_url", "webhook url: %v", err)
		}
	}
	secret, err := s.store.SetWebhook(r.Context(), p.TenantID, body.URL)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"url": body.URL, "secret": secret})
	return nil
}
