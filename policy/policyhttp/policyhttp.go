// Package policyhttp serves the platform policy over the API: show, diff,
// draft, validate, backtest, shadow, publish, rollback and re-decide. It
// builds api.Routes that the composition root hands to the API, so the API
// core never compiles against the rule engine.
package policyhttp

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/muster-dev/muster/api"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/muster-dev/muster/policy"
	"github.com/muster-dev/muster/queue"
	"github.com/muster-dev/muster/store"
)

// Server serves the policy routes.
type Server struct {
	policy *policy.Store
	queue  *queue.Queue
	log    *slog.Logger
	kick   func()
}

// Routes returns the policy routes. They act on the platform-wide policy:
// only keys of the platform operator's tenant reach them, and only with the
// roles listed per route, except the re-decision jobs' routes, where a
// tenant's legal or admin keys read the jobs of their own licences.
// Backtests and re-decisions are queued as durable jobs for a
// policy.JobRunner; kick (may be nil) wakes this process's runner.
func Routes(pol *policy.Store, q *queue.Queue, log *slog.Logger, kick func()) []api.Route {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if kick == nil {
		kick = func() {}
	}
	s := &Server{policy: pol, queue: q, log: log, kick: kick}
	read := []string{store.RoleLegal, store.RoleAdmin, store.RoleReviewer}
	edit := []string{store.RoleLegal, store.RoleAdmin}
	legal := []string{store.RoleLegal}
	return []api.Route{
		{Method: "GET", Pattern: "/v1/policy", Roles: read, Summary: "Show a policy version (?which=live|shadow|draft|default|N)", Handler: s.getPolicy, Platform: true},
		{Method: "GET", Pattern: "/v1/policy/versions", Roles: read, Summary: "Policy version history", Handler: s.policyVersions, Platform: true},
		{Method: "GET", Pattern: "/v1/policy/diff", Roles: read, Summary: "Diff two versions (?a=live&b=draft)", Handler: s.policyDiff, Platform: true},
		{Method: "GET", Pattern: "/v1/policy/audit", Roles: read, Summary: "Policy audit log", Handler: s.policyAudit, Platform: true},
		{Method: "PUT", Pattern: "/v1/policy/draft", Roles: edit, Summary: "Save the draft (type-checked)", Handler: s.putDraft, Platform: true},
		{Method: "POST", Pattern: "/v1/policy/validate", Roles: edit, Summary: "Type-check a policy document without saving", Handler: s.validatePolicy, Platform: true},
		{Method: "POST", Pattern: "/v1/policy/backtests", Roles: edit, Summary: "Queue a backtest of the draft over stored analyses ({days, max_designs}): a durable job", Handler: s.startBacktest, Platform: true},
		{Method: "GET", Pattern: "/v1/policy/backtests", Roles: edit, Summary: "Backtests, newest first, with status, progress, attempts and lease", Handler: s.listBacktests, Platform: true},
		{Method: "GET", Pattern: "/v1/policy/backtests/{id}", Roles: edit, Summary: "A backtest's progress and result", Handler: s.getBacktest, Platform: true},
		{Method: "POST", Pattern: "/v1/policy/backtests/{id}/cancel", Roles: edit, Summary: "Cancel a queued or running backtest", Handler: s.cancelBacktest, Platform: true},
		{Method: "POST", Pattern: "/v1/policy/shadow", Roles: edit, Summary: "Put the draft in shadow ({note})", Handler: s.setShadow, Platform: true},
		{Method: "DELETE", Pattern: "/v1/policy/shadow", Roles: edit, Summary: "Stop shadowing", Handler: s.clearShadow, Platform: true},
		{Method: "POST", Pattern: "/v1/policy/publish", Roles: legal, Summary: "Publish the draft ({note, draft_revision})", Handler: s.publishPolicy, Platform: true},
		{Method: "POST", Pattern: "/v1/policy/rollback", Roles: legal, Summary: "Publish an older version again ({to, expect_live, note})", Handler: s.rollbackPolicy, Platform: true},
		{Method: "POST", Pattern: "/v1/policy/redecide", Roles: edit, Summary: "Queue a re-decision of stored designs under the live version ({since}): 202 with a durable job", Handler: s.redecide, Platform: true},
		{Method: "GET", Pattern: "/v1/redecisions", Roles: edit, Summary: "Re-decision jobs (policy and licence), newest first, with status, progress and changes; a tenant sees its licence jobs", Handler: s.listRedecisions},
		{Method: "GET", Pattern: "/v1/redecisions/{id}", Roles: edit, Summary: "A re-decision job's status, progress, counts and first changed designs", Handler: s.getRedecision},
		{Method: "POST", Pattern: "/v1/redecisions/{id}/cancel", Roles: edit, Summary: "Cancel a queued or running re-decision (verdicts already recorded stand)", Handler: s.cancelRedecision, Platform: true},
	}
}

func actor(p store.Principal) policy.Actor {
	return policy.Actor{Name: "key:" + p.KeyPrefix, Role: p.Role}
}

// policyError maps the policy package's typed errors to API errors.
func policyError(err error) error {
	var ce *policy.CompileError
	switch {
	case errors.As(err, &ce):
		return &api.Error{Status: http.StatusUnprocessableEntity, Code: "invalid_policy", Message: err.Error()}
	case errors.Is(err, policy.ErrForbidden):
		return &api.Error{Status: http.StatusForbidden, Code: "forbidden", Message: err.Error()}
	case errors.Is(err, policy.ErrConflict):
		return &api.Error{Status: http.StatusConflict, Code: "conflict", Message: err.Error()}
	case errors.Is(err, policy.ErrNotFound):
		return &api.Error{Status: http.StatusNotFound, Code: "not_found", Message: err.Error()}
	}
	return err
}

func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request, _ store.Principal) error {
	content, label, err := policy.Resolve(r.Context(), s.policy, r.URL.Query().Get("which"))
	if err != nil {
		return policyError(err)
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"label": label, "document": json.RawMessage(content)})
	return nil
}

func (s *Server) policyVersions(w http.ResponseWriter, r *http.Request, _ store.Principal) error {
	vs, err := s.policy.History(r.Context(), 200)
	if err != nil {
		return policyError(err)
	}
	st, err := s.policy.State(r.Context())
	if err != nil {
		return policyError(err)
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"state": st, "versions": vs})
	return nil
}

func (s *Server) policyDiff(w http.ResponseWriter, r *http.Request, _ store.Principal) error {
	a, b := r.URL.Query().Get("a"), r.URL.Query().Get("b")
	if a == "" || b == "" {
		return api.BadRequest("invalid_diff", "give two versions: ?a=live&b=draft (live, shadow, draft, default or a number)")
	}
	ca, la, err := policy.Resolve(r.Context(), s.policy, a)
	if err != nil {
		return policyError(err)
	}
	cb, lb, err := policy.Resolve(r.Context(), s.policy, b)
	if err != nil {
		return policyError(err)
	}
	da, err := policy.ParseDocument(ca)
	if err != nil {
		return policyError(err)
	}
	db, err := policy.ParseDocument(cb)
	if err != nil {
		return policyError(err)
	}
	d, err := policy.Diff(da, db, la, lb)
	if err != nil {
		return policyError(err)
	}
	api.WriteJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) policyAudit(w http.ResponseWriter, r *http.Request, _ store.Principal) error {
	a, err := s.policy.Audit(r.Context(), 500)
	if err != nil {
		return policyError(err)
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"audit": a})
	return nil
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	return b, nil
}

func (s *Server) putDraft(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	d, err := s.policy.SaveDraft(r.Context(), actor(p), body)
	if err != nil {
		return policyError(err)
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"revision": d.Revision, "base_version": d.BaseVersion})
	return nil
}

func (s *Server) validatePolicy(w http.ResponseWriter, r *http.Request, _ store.Principal) error {
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	doc, err := policy.Validate(body, policy.Config{})
	if err != nil {
		return policyError(err)
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"ok": true, "rules": len(doc.Rules), "params": len(doc.Params)})
	return nil
}

func (s *Server) startBacktest(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	var req struct {
		Days       int `json:"days"`
		MaxDesigns int `json:"max_designs"`
	}
	if err := api.ReadJSON(w, r, &req); err != nil {
		return err
	}
	if req.Days < 1 || req.Days > 365 {
		return api.BadRequest("invalid_days", "days must be 1..365")
	}
	if req.MaxDesigns < 0 || req.MaxDesigns > policy.DefaultBacktestMaxDesigns {
		return api.BadRequest("invalid_max_designs", "max_designs must be 1..%d (0: the default)", policy.DefaultBacktestMaxDesigns)
	}
	id, err := s.policy.QueueBacktest(r.Context(), actor(p), policy.BacktestRequest{Days: req.Days, MaxDesigns: req.MaxDesigns})
	if err != nil {
		return policyError(err)
	}
	s.kick()
	w.Header().Set("Location", "/v1/policy/backtests/"+strconv.FormatInt(id, 10))
	api.WriteJSON(w, http.StatusAccepted, map[string]any{"id": id, "status": policy.BacktestQueued})
	return nil
}

func (s *Server) listBacktests(w http.ResponseWriter, r *http.Request, _ store.Principal) error {
	bs, err := s.policy.Backtests(r.Context(), 100)
	if err != nil {
		return policyError(err)
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"backtests": bs})
	return nil
}

func (s *Server) cancelBacktest(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return &api.Error{Status: http.StatusNotFound, Code: "not_found", Message: "no backtest " + r.PathValue("id")}
	}
	if err := s.policy.CancelBacktest(r.Context(), actor(p), id); err != nil {
		return policyError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) getBacktest(w http.ResponseWriter, r *http.Request, _ store.Principal) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return &api.Error{Status: http.StatusNotFound, Code: "not_found", Message: "no backtest " + r.PathValue("id")}
	}
	b, err := s.policy.Backtest(r.Context(), id)
	if err != nil {
		return policyError(err)
	}
	api.WriteJSON(w, http.StatusOK, b)
	return nil
}

func (s *Server) setShadow(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	var req struct {
		Note string `json:"note"`
	}
	if err := api.ReadJSON(w, r, &req); err != nil {
		return err
	}
	v, err := s.policy.SetShadow(r.Context(), actor(p), req.Note)
	if err != nil {
		return policyError(err)
	}
	api.WriteJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) clearShadow(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	if err := s.policy.ClearShadow(r.Context(), actor(p)); err != nil {
		return policyError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) publishPolicy(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	var req struct {
		Note          string `json:"note"`
		DraftRevision int64  `json:"draft_revision"`
	}
	if err := api.ReadJSON(w, r, &req); err != nil {
		return err
	}
	v, err := s.policy.Publish(r.Context(), actor(p), policy.PublishRequest{Note: req.Note, DraftRevision: req.DraftRevision})
	if err != nil {
		return policyError(err)
	}
	api.WriteJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) rollbackPolicy(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	var req struct {
		To         int    `json:"to"`
		ExpectLive int    `json:"expect_live"`
		Note       string `json:"note"`
	}
	if err := api.ReadJSON(w, r, &req); err != nil {
		return err
	}
	v, err := s.policy.Rollback(r.Context(), actor(p), req.To, req.ExpectLive, req.Note)
	if err != nil {
		return policyError(err)
	}
	api.WriteJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) redecide(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	var req struct {
		Since time.Time `json:"since"`
	}
	if err := api.ReadJSON(w, r, &req); err != nil {
		return err
	}
	job, err := s.policy.QueueRedecide(r.Context(), actor(p), req.Since)
	if err != nil {
		return policyError(err)
	}
	s.kick()
	w.Header().Set("Location", RedecisionHref(job.ID))
	api.WriteJSON(w, http.StatusAccepted, job)
	return nil
}

// RedecisionHref is where a re-decision job is read.
func RedecisionHref(id int64) string { return "/v1/redecisions/" + strconv.FormatInt(id, 10) }

func (s *Server) listRedecisions(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	tenant := ""
	if !p.Platform {
		tenant = p.TenantID
	}
	js, err := s.policy.Redecisions(r.Context(), tenant, 100)
	if err != nil {
		return policyError(err)
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"redecisions": js})
	return nil
}

// redecision reads the job named in the path, tenant-scoped: a tenant's
// keys see its own licence jobs only.
func (s *Server) redecision(r *http.Request, p store.Principal) (policy.Redecision, error) {
	notFound := &api.Error{Status: http.StatusNotFound, Code: "not_found", Message: "no re-decision " + r.PathValue("id")}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return policy.Redecision{}, notFound
	}
	j, err := s.policy.Redecision(r.Context(), id)
	if errors.Is(err, policy.ErrNotFound) || (err == nil && !p.Platform && j.TenantID != p.TenantID) {
		return policy.Redecision{}, notFound
	}
	return j, policyError(err)
}

func (s *Server) getRedecision(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	j, err := s.redecision(r, p)
	if err != nil {
		return err
	}
	api.WriteJSON(w, http.StatusOK, j)
	return nil
}

func (s *Server) cancelRedecision(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	j, err := s.redecision(r, p)
	if err != nil {
		return err
	}
	if err := s.policy.CancelRedecision(r.Context(), actor(p), j.ID); err != nil {
		return policyError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// NotifyChange publishes a verdict.changed event for a re-decided design,
// which reaches waiters and the tenant's webhook.
func NotifyChange(q *queue.Queue) func(context.Context, policy.Change) error {
	return func(ctx context.Context, c policy.Change) error {
		return q.PublishVerdict(ctx, queue.VerdictEvent{Type: queue.EventVerdictChanged, TenantID: c.TenantID, DesignID: c.DesignID, VerdictID: c.VerdictID, Outcome: c.After})
	}
}
