package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/muster-dev/muster/policy"
	"github.com/muster-dev/muster/queue"
	"github.com/muster-dev/muster/store"
)

// Policy routes act on the platform-wide policy: only keys of the platform
// operator's tenant reach them, and only with the roles listed per route.
func (s *Server) policyRoutes() []route {
	if s.policy == nil {
		return nil
	}
	read := []string{store.RoleLegal, store.RoleAdmin, store.RoleReviewer}
	edit := []string{store.RoleLegal, store.RoleAdmin}
	legal := []string{store.RoleLegal}
	return []route{
		{"GET", "/v1/policy", read, "Show a policy version (?which=live|shadow|draft|default|N)", s.getPolicy, true},
		{"GET", "/v1/policy/versions", read, "Policy version history", s.policyVersions, true},
		{"GET", "/v1/policy/diff", read, "Diff two versions (?a=live&b=draft)", s.policyDiff, true},
		{"GET", "/v1/policy/audit", read, "Policy audit log", s.policyAudit, true},
		{"PUT", "/v1/policy/draft", edit, "Save the draft (type-checked)", s.putDraft, true},
		{"POST", "/v1/policy/validate", edit, "Type-check a policy document without saving", s.validatePolicy, true},
		{"POST", "/v1/policy/backtests", edit, "Backtest the draft over stored analyses ({days})", s.startBacktest, true},
		{"GET", "/v1/policy/backtests/{id}", edit, "A backtest's progress and result", s.getBacktest, true},
		{"POST", "/v1/policy/shadow", edit, "Put the draft in shadow ({note})", s.setShadow, true},
		{"DELETE", "/v1/policy/shadow", edit, "Stop shadowing", s.clearShadow, true},
		{"POST", "/v1/policy/publish", legal, "Publish the draft ({note, draft_revision})", s.publishPolicy, true},
		{"POST", "/v1/policy/rollback", legal, "Publish an older version again ({to, expect_live, note})", s.rollbackPolicy, true},
		{"POST", "/v1/policy/redecide", edit, "Re-decide stored designs under the live version ({since})", s.redecide, true},
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
		return &Error{Status: http.StatusUnprocessableEntity, Code: "invalid_policy", Message: err.Error()}
	case errors.Is(err, policy.ErrForbidden):
		return &Error{Status: http.StatusForbidden, Code: "forbidden", Message: err.Error()}
	case errors.Is(err, policy.ErrConflict):
		return &Error{Status: http.StatusConflict, Code: "conflict", Message: err.Error()}
	case errors.Is(err, policy.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Code: "not_found", Message: err.Error()}
	}
	return err
}

func readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("invalid_json", "%v", err)
	}
	return nil
}

func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request, _ store.Principal) error {
	content, label, err := policy.Resolve(r.Context(), s.policy, r.URL.Query().Get("which"))
	if err != nil {
		return policyError(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"label": label, "document": json.RawMessage(content)})
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
	writeJSON(w, http.StatusOK, map[string]any{"state": st, "versions": vs})
	return nil
}

func (s *Server) policyDiff(w http.ResponseWriter, r *http.Request, _ store.Principal) error {
	a, b := r.URL.Query().Get("a"), r.URL.Query().Get("b")
	if a == "" || b == "" {
		return badRequest("invalid_diff", "give two versions: ?a=live&b=draft (live, shadow, draft, default or a number)")
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
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) policyAudit(w http.ResponseWriter, r *http.Request, _ store.Principal) error {
	a, err := s.policy.Audit(r.Context(), 500)
	if err != nil {
		return policyError(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"audit": a})
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
	writeJSON(w, http.StatusOK, map[string]any{"revision": d.Revision, "base_version": d.BaseVersion})
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
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "rules": len(doc.Rules), "params": len(doc.Params)})
	return nil
}

func (s *Server) startBacktest(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	var req struct {
		Days int `json:"days"`
	}
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	if req.Days < 1 || req.Days > 365 {
		return badRequest("invalid_days", "days must be 1..365")
	}
	id, err := s.policy.StartBacktest(r.Context(), actor(p), req.Days)
	if err != nil {
		return policyError(err)
	}
	go func() {
		if err := s.policy.RunBacktest(context.WithoutCancel(r.Context()), id); err != nil {
			s.cfg.Logger.Error("backtest failed", "id", id, "err", err)
		}
	}()
	w.Header().Set("Location", "/v1/policy/backtests/"+strconv.FormatInt(id, 10))
	writeJSON(w, http.StatusAccepted, map[string]any{"id": id})
	return nil
}

func (s *Server) getBacktest(w http.ResponseWriter, r *http.Request, _ store.Principal) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no backtest " + r.PathValue("id")}
	}
	b, err := s.policy.Backtest(r.Context(), id)
	if err != nil {
		return policyError(err)
	}
	writeJSON(w, http.StatusOK, b)
	return nil
}

func (s *Server) setShadow(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	var req struct {
		Note string `json:"note"`
	}
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	v, err := s.policy.SetShadow(r.Context(), actor(p), req.Note)
	if err != nil {
		return policyError(err)
	}
	writeJSON(w, http.StatusOK, v)
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
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	v, err := s.policy.Publish(r.Context(), actor(p), policy.PublishRequest{Note: req.Note, DraftRevision: req.DraftRevision})
	if err != nil {
		return policyError(err)
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) rollbackPolicy(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	var req struct {
		To         int    `json:"to"`
		ExpectLive int    `json:"expect_live"`
		Note       string `json:"note"`
	}
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	v, err := s.policy.Rollback(r.Context(), actor(p), req.To, req.ExpectLive, req.Note)
	if err != nil {
		return policyError(err)
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) redecide(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	var req struct {
		Since time.Time `json:"since"`
	}
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	rep, err := s.policy.Redecide(r.Context(), actor(p), req.Since, NotifyChange(s.queue))
	if err != nil {
		return policyError(err)
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// NotifyChange publishes a verdict.changed event for a re-decided design,
// which reaches waiters and the tenant's webhook.
func NotifyChange(q *queue.Queue) func(context.Context, policy.Change) error {
	return func(ctx context.Context, c policy.Change) error {
		return q.PublishVerdict(ctx, queue.VerdictEvent{Type: queue.EventVerdictChanged, TenantID: c.TenantID, DesignID: c.DesignID, VerdictID: c.VerdictID, Outcome: c.After})
	}
}
