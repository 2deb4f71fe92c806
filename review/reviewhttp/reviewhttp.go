// Package reviewhttp serves the review workflow over the API: queues and
// routing, claim with a lease, heartbeat, release, decide, escalate,
// comments, priority, bulk, the audit log and the QA report for reviewers;
// appeals for merchants. It builds api.Routes the composition root hands to
// the API, so every route goes through the API's authentication, role
// check, error shape, metrics and OpenAPI document.
//
// Tenant scope: reviewers of the platform operator's tenant review every
// tenant's items; reviewers of any other tenant only their own tenant's.
// Merchants never reach /v1/review; they appeal their own designs.
package reviewhttp

import (
	"encoding/csv"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/muster-dev/muster/api"
	"github.com/muster-dev/muster/review"
	"github.com/muster-dev/muster/store"
)

// Server serves the review routes.
type Server struct {
	svc *review.Service
}

var (
	reviewers = []string{store.RoleReviewer, store.RoleLegal, store.RoleAdmin}
	editors   = []string{store.RoleLegal, store.RoleAdmin}
	merchants = []string{store.RoleMerchant, store.RoleAdmin}
	anyRole   = []string{store.RoleMerchant, store.RoleReviewer, store.RoleLegal, store.RoleAdmin}
)

// Routes returns the review routes.
func Routes(svc *review.Service) []api.Route {
	s := &Server{svc: svc}
	idParam := map[string]any{"name": "id", "in": "path", "required": true, "schema": map[string]any{"type": "integer"}}
	designParam := map[string]any{"name": "id", "in": "path", "required": true, "schema": map[string]any{"type": "string", "format": "uuid"}}
	body := func(props map[string]any, required ...string) map[string]any {
		schema := map[string]any{"type": "object", "properties": props}
		if len(required) > 0 {
			schema["required"] = required
		}
		return map[string]any{"required": len(required) > 0, "content": map[string]any{"application/json": map[string]any{"schema": schema}}}
	}
	str := map[string]any{"type": "string"}
	markets := map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string", "enum": []string{"allow", "block"}},
		"description": "market → allow|block; markets left out keep their outcome; every market in review must be given", "example": map[string]string{"US": "allow", "DE": "block"}}
	var reasons []string
	for _, r := range review.Reasons() {
		reasons = append(reasons, r.Code)
	}
	decision := map[string]any{"markets": markets, "reason": map[string]any{"type": "string", "enum": reasons}, "note": str,
		"appeal": map[string]any{"type": "string", "enum": []string{review.AppealUphold, review.AppealOverturn}, "description": "appeal items only"}}
	q := func(name, desc string) map[string]any {
		return map[string]any{"name": name, "in": "query", "description": desc, "schema": str}
	}
	claimed := map[string]any{"200": map[string]any{"description": "The item, leased to the caller until lease_until"}, "204": map[string]any{"description": "Nothing is waiting"}}
	return []api.Route{
		{Method: "GET", Pattern: "/v1/review/queues", Roles: reviewers, Summary: "Review queues with pending counts, oldest age and SLA", Handler: s.queues},
		{Method: "PUT", Pattern: "/v1/review/queues/{name}", Roles: editors, Platform: true, Summary: "Create or change a review queue (roles, SLA)", Handler: s.saveQueue,
			Doc: map[string]any{"requestBody": body(map[string]any{"title": str, "description": str, "roles": map[string]any{"type": "array", "items": str},
				"sla_seconds": map[string]any{"type": "integer"}, "default": map[string]any{"type": "boolean"}, "position": map[string]any{"type": "integer"}}, "roles")}},
		{Method: "GET", Pattern: "/v1/review/routes", Roles: reviewers, Summary: "Routing rules: which rule codes, rules or finding types go to which queue", Handler: s.routes},
		{Method: "PUT", Pattern: "/v1/review/routes", Roles: editors, Platform: true, Summary: "Replace the routing rules", Handler: s.setRoutes,
			Doc: map[string]any{"requestBody": body(map[string]any{"routes": map[string]any{"type": "array", "items": map[string]any{"type": "object", "properties": map[string]any{
				"match_on": map[string]any{"type": "string", "enum": []string{"code", "rule", "finding"}}, "pattern": str, "queue": str,
				"priority": map[string]any{"type": "integer"}, "note": str}}}}, "routes")}},
		{Method: "GET", Pattern: "/v1/review/reasons", Roles: reviewers, Summary: "Reason codes a decision may give", Handler: s.reasons},
		{Method: "POST", Pattern: "/v1/review/claim", Roles: reviewers, Summary: "Claim the next item (optionally of one queue) with a lease; 204 when none waits", Handler: s.claim,
			Doc: map[string]any{"requestBody": body(map[string]any{"queue": str}), "responses": claimed}},
		{Method: "GET", Pattern: "/v1/review/items", Roles: reviewers, Summary: "List review items", Handler: s.items,
			Doc: map[string]any{"parameters": []any{q("queue", ""), q("state", "open, decided or closed"), q("kind", "flagged, appeal, qa or redecide"), q("design", "design id"),
				q("decided_by", "reviewer"), q("before", "item id to page from"), q("limit", "1..1000")}}},
		{Method: "GET", Pattern: "/v1/review/items/{id}", Roles: reviewers, Summary: "An item with its design, verdicts, findings, comments, history and the merchant's other designs", Handler: s.item,
			Doc: map[string]any{"parameters": []any{idParam}}},
		{Method: "POST", Pattern: "/v1/review/items/{id}/heartbeat", Roles: reviewers, Summary: "Renew the caller's lease on an item", Handler: s.heartbeat,
			Doc: map[string]any{"parameters": []any{idParam}}},
		{Method: "POST", Pattern: "/v1/review/items/{id}/release", Roles: reviewers, Summary: "Skip: give the item back to its queue", Handler: s.release,
			Doc: map[string]any{"parameters": []any{idParam}, "requestBody": body(map[string]any{"comment": str})}},
		{Method: "POST", Pattern: "/v1/review/items/{id}/decision", Roles: reviewers, Summary: "Decide an item the caller holds: records a human verdict and notifies the tenant", Handler: s.decide,
			Doc: map[string]any{"parameters": []any{idParam}, "requestBody": body(decision, "reason")}},
		{Method: "POST", Pattern: "/v1/review/items/{id}/escalate", Roles: reviewers, Summary: "Move an item the caller holds to another queue with a comment", Handler: s.escalate,
			Doc: map[string]any{"parameters": []any{idParam}, "requestBody": body(map[string]any{"queue": str, "comment": str}, "queue", "comment")}},
		{Method: "GET", Pattern: "/v1/review/items/{id}/comments", Roles: reviewers, Summary: "An item's internal comments", Handler: s.comments,
			Doc: map[string]any{"parameters": []any{idParam}}},
		{Method: "POST", Pattern: "/v1/review/items/{id}/comments", Roles: reviewers, Summary: "Add an internal comment (never shown to merchants)", Handler: s.addComment,
			Doc: map[string]any{"parameters": []any{idParam}, "requestBody": body(map[string]any{"body": str}, "body")}},
		{Method: "POST", Pattern: "/v1/review/items/{id}/corrections", Roles: reviewers,
			Summary: "Not this mark: mark the item's trademark, symbol or phrase finding of a bank entry wrong — the bank analyzer's or the OCR's (the same design bytes never raise that entry again in that analyzer) or the listing's (the same text of the field never does) (201; 200 when already marked)", Handler: s.markWrong,
			Doc: map[string]any{"parameters": []any{idParam}, "requestBody": body(map[string]any{"bank": str, "entry_id": str,
				"analyzer": map[string]any{"type": "string", "enum": []string{"bank", "ocr", "listing"}, "description": "whose finding (default bank)"},
				"field":    map[string]any{"type": "string", "enum": []string{"title", "tags", "description"}, "description": "the listing field (analyzer listing)"},
				"note":     str}, "bank", "entry_id")}},
		{Method: "POST", Pattern: "/v1/review/corrections/{id}/withdraw", Roles: reviewers,
			Summary: "Withdraw a not-this-mark correction (its author, legal or admin): the entry is raised again for those bytes", Handler: s.withdraw,
			Doc: map[string]any{"parameters": []any{idParam}, "requestBody": body(map[string]any{"note": str})}},
		{Method: "GET", Pattern: "/v1/review/items/{id}/corrections", Roles: reviewers, Summary: "The not-this-mark corrections that apply to the item's design bytes and listing text", Handler: s.corrections,
			Doc: map[string]any{"parameters": []any{idParam}}},
		{Method: "PUT", Pattern: "/v1/review/items/{id}/priority", Roles: reviewers, Summary: "Set an open item's priority (higher is claimed first)", Handler: s.priority,
			Doc: map[string]any{"parameters": []any{idParam}, "requestBody": body(map[string]any{"priority": map[string]any{"type": "integer"}}, "priority")}},
		{Method: "POST", Pattern: "/v1/review/bulk", Roles: reviewers, Summary: "Decide up to 1,000 items by id with one reason, each atomically", Handler: s.bulk,
			Doc: map[string]any{"requestBody": body(map[string]any{"ids": map[string]any{"type": "array", "items": map[string]any{"type": "integer"}, "maxItems": svc.Config().BulkMax},
				"markets": markets, "reason": map[string]any{"type": "string", "enum": reasons}, "note": str, "appeal": str}, "ids", "reason")}},
		{Method: "GET", Pattern: "/v1/review/audit", Roles: reviewers, Summary: "The hash-chained review audit log (?format=csv to export)", Handler: s.audit,
			Doc: map[string]any{"parameters": []any{q("actor", ""), q("action", ""), q("design", ""), q("item", ""), q("since", "RFC 3339"), q("until", "RFC 3339"),
				q("before", "row id to page from"), q("limit", "1..5000"), q("format", "json or csv")}}},
		{Method: "GET", Pattern: "/v1/review/stats", Roles: reviewers, Summary: "Per reviewer over the last days (default 7, 1..90): decided, blocked, handle time p50/p90, skipped, escalated, appealed and overturned", Handler: s.stats,
			Doc: map[string]any{"parameters": []any{q("days", "1..90, default 7")}}},
		{Method: "GET", Pattern: "/v1/review/qa", Roles: reviewers, Summary: "Agreement of reviewers with automated outcomes on QA samples, per rule code and analyzer", Handler: s.qa},
		{Method: "POST", Pattern: "/v1/designs/{id}/appeals", Roles: merchants, Summary: "Appeal a block within 6 months of the decision (DSA Art. 20)", Handler: s.fileAppeal,
			Doc: map[string]any{"parameters": []any{designParam}, "requestBody": body(map[string]any{"message": str}, "message")}},
		{Method: "GET", Pattern: "/v1/designs/{id}/appeals", Roles: anyRole, Summary: "A design's appeals and their results", Handler: s.appeals,
			Doc: map[string]any{"parameters": []any{designParam}}},
		{Method: "GET", Pattern: "/v1/designs/{id}/access", Roles: anyRole,
			Summary: "Access transparency: who viewed the design in the console (or read its review item) and when, newest first; hash-chained with the review audit log", Handler: s.access,
			Doc: map[string]any{"parameters": []any{designParam, q("limit", "1..5000, default 500")}}},
	}
}

// reviewError maps the review package's typed errors to API errors.
func reviewError(err error) error {
	var ie *review.InputError
	switch {
	case errors.As(err, &ie):
		return api.BadRequest(ie.Code, "%s", ie.Message)
	case errors.Is(err, review.ErrNotClaimed):
		return &api.Error{Status: http.StatusConflict, Code: "not_claimed", Message: err.Error()}
	case errors.Is(err, review.ErrNotOpen):
		return &api.Error{Status: http.StatusConflict, Code: "not_open", Message: err.Error()}
	case errors.Is(err, review.ErrFourEyes):
		return &api.Error{Status: http.StatusForbidden, Code: "four_eyes", Message: err.Error()}
	case errors.Is(err, review.ErrForbidden):
		return &api.Error{Status: http.StatusForbidden, Code: "forbidden", Message: err.Error()}
	case errors.Is(err, review.ErrAppealWindow):
		return &api.Error{Status: http.StatusUnprocessableEntity, Code: "appeal_window_closed", Message: err.Error()}
	}
	return err
}

func itemID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, &api.Error{Status: http.StatusNotFound, Code: "not_found", Message: "no review item " + r.PathValue("id")}
	}
	return id, nil
}

// readOptional decodes a JSON body that may be empty.
func readOptional(w http.ResponseWriter, r *http.Request, v any) error {
	if r.ContentLength == 0 {
		return nil
	}
	return api.ReadJSON(w, r, v)
}

func (s *Server) queues(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	qs, err := s.svc.Queues(r.Context(), review.FromPrincipal(p))
	if err != nil {
		return reviewError(err)
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"queues": qs})
	return nil
}

func (s *Server) saveQueue(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	var q review.Queue
	if err := api.ReadJSON(w, r, &q); err != nil {
		return err
	}
	q.Name = r.PathValue("name")
	out, err := s.svc.SaveQueue(r.Context(), review.FromPrincipal(p), q)
	if err != nil {
		return reviewError(err)
	}
	api.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) routes(w http.ResponseWriter, r *http.Request, _ store.Principal) error {
	rs, err := s.svc.Routes(r.Context())
	if err != nil {
		return err
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"routes": rs})
	return nil
}

func (s *Server) setRoutes(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	var req struct {
		Routes []review.Route `json:"routes"`
	}
	if err := api.ReadJSON(w, r, &req); err != nil {
		return err
	}
	rs, err := s.svc.SetRoutes(r.Context(), review.FromPrincipal(p), req.Routes)
	if err != nil {
		return reviewError(err)
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"routes": rs})
	return nil
}

func (s *Server) reasons(w http.ResponseWriter, r *http.Request, _ store.Principal) error {
	api.WriteJSON(w, http.StatusOK, map[string]any{"reasons": review.Reasons()})
	return nil
}

func (s *Server) claim(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	var req struct {
		Queue string `json:"queue"`
	}
	if err := readOptional(w, r, &req); err != nil {
		return err
	}
	it, err := s.svc.Claim(r.Context(), review.FromPrincipal(p), req.Queue)
	if errors.Is(err, review.ErrEmpty) {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	if err != nil {
		return reviewError(err)
	}
	api.WriteJSON(w, http.StatusOK, it)
	return nil
}

func intParam(r *http.Request, name string, min, max int64) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < min || n > max {
		return 0, api.BadRequest("invalid_"+name, "%s must be an integer in %d..%d", name, min, max)
	}
	return n, nil
}

func (s *Server) items(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	before, err := intParam(r, "before", 1, 1<<62)
	if err != nil {
		return err
	}
	limit, err := intParam(r, "limit", 1, 1000)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	items, err := s.svc.Items(r.Context(), review.FromPrincipal(p), review.ItemFilter{Queue: q.Get("queue"), State: q.Get("state"), Kind: q.Get("kind"),
		DesignID: q.Get("design"), DecidedBy: q.Get("decided_by"), BeforeID: before, Limit: int(limit)})
	if err != nil {
		return reviewError(err)
	}
	if items == nil {
		items = []review.Item{}
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}

func (s *Server) item(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	id, err := itemID(r)
	if err != nil {
		return err
	}
	rv := review.FromPrincipal(p)
	c, err := s.svc.Context(r.Context(), rv, id)
	if err != nil {
		return reviewError(err)
	}
	if err := s.svc.LogView(r.Context(), rv.ID, c.Design.TenantID, c.Design.ID, review.ViewAPIItem, id); err != nil {
		return err
	}
	api.WriteJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) access(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	limit := 0
	if l := r.URL.Query().Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 5000 {
			return api.BadRequest("invalid_limit", "limit %q is not a number in 1..5000", l)
		}
		limit = n
	}
	as, err := s.svc.DesignAccess(r.Context(), p.TenantID, p.Platform, r.PathValue("id"), limit)
	if err != nil {
		return reviewError(err)
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"design_id": r.PathValue("id"), "access": as})
	return nil
}

func (s *Server) heartbeat(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	id, err := itemID(r)
	if err != nil {
		return err
	}
	it, err := s.svc.Heartbeat(r.Context(), review.FromPrincipal(p), id)
	if err != nil {
		return reviewError(err)
	}
	api.WriteJSON(w, http.StatusOK, it)
	return nil
}

func (s *Server) release(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	id, err := itemID(r)
	if err != nil {
		return err
	}
	var req struct {
		Comment string `json:"comment"`
	}
	if err := readOptional(w, r, &req); err != nil {
		return err
	}
	it, err := s.svc.Release(r.Context(), review.FromPrincipal(p), id, req.Comment)
	if err != nil {
		return reviewError(err)
	}
	api.WriteJSON(w, http.StatusOK, it)
	return nil
}

func (s *Server) decide(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	id, err := itemID(r)
	if err != nil {
		return err
	}
	var d review.Decision
	if err := api.ReadJSON(w, r, &d); err != nil {
		return err
	}
	res, err := s.svc.Decide(r.Context(), review.FromPrincipal(p), id, d)
	if err != nil {
		return reviewError(err)
	}
	api.WriteJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) escalate(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	id, err := itemID(r)
	if err != nil {
		return err
	}
	var req struct {
		Queue   string `json:"queue"`
		Comment string `json:"comment"`
	}
	if err := api.ReadJSON(w, r, &req); err != nil {
		return err
	}
	it, err := s.svc.Escalate(r.Context(), review.FromPrincipal(p), id, req.Queue, req.Comment)
	if err != nil {
		return reviewError(err)
	}
	api.WriteJSON(w, http.StatusOK, it)
	return nil
}

func (s *Server) markWrong(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	id, err := itemID(r)
	if err != nil {
		return err
	}
	var req struct {
		review.Target
		Note string `json:"note"`
	}
	if err := api.ReadJSON(w, r, &req); err != nil {
		return err
	}
	c, err := s.svc.MarkWrong(r.Context(), review.FromPrincipal(p), id, req.Target, req.Note)
	if err != nil {
		return reviewError(err)
	}
	status := http.StatusCreated
	if c.Existing {
		status = http.StatusOK
	}
	api.WriteJSON(w, status, c)
	return nil
}

func (s *Server) withdraw(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	id, err := itemID(r)
	if err != nil {
		return err
	}
	var req struct {
		Note string `json:"note"`
	}
	if err := readOptional(w, r, &req); err != nil {
		return err
	}
	c, err := s.svc.WithdrawCorrection(r.Context(), review.FromPrincipal(p), id, req.Note)
	if err != nil {
		return reviewError(err)
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"withdrawn": c})
	return nil
}

func (s *Server) corrections(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	id, err := itemID(r)
	if err != nil {
		return err
	}
	cs, err := s.svc.Corrections(r.Context(), review.FromPrincipal(p), id)
	if err != nil {
		return reviewError(err)
	}
	if cs == nil {
		cs = []review.Correction{}
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"corrections": cs})
	return nil
}

func (s *Server) comments(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	id, err := itemID(r)
	if err != nil {
		return err
	}
	cs, err := s.svc.Comments(r.Context(), review.FromPrincipal(p), id)
	if err != nil {
		return reviewError(err)
	}
	if cs == nil {
		cs = []review.Comment{}
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"comments": cs})
	return nil
}

func (s *Server) addComment(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	id, err := itemID(r)
	if err != nil {
		return err
	}
	var req struct {
		Body string `json:"body"`
	}
	if err := api.ReadJSON(w, r, &req); err != nil {
		return err
	}
	c, err := s.svc.AddComment(r.Context(), review.FromPrincipal(p), id, req.Body)
	if err != nil {
		return reviewError(err)
	}
	api.WriteJSON(w, http.StatusCreated, c)
	return nil
}

func (s *Server) priority(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	id, err := itemID(r)
	if err != nil {
		return err
	}
	var req struct {
		Priority *int `json:"priority"`
	}
	if err := api.ReadJSON(w, r, &req); err != nil {
		return err
	}
	if req.Priority == nil || *req.Priority < -1000 || *req.Priority > 1000 {
		return api.BadRequest("invalid_priority", "priority must be an integer in -1000..1000")
	}
	it, err := s.svc.SetPriority(r.Context(), review.FromPrincipal(p), id, *req.Priority)
	if err != nil {
		return reviewError(err)
	}
	api.WriteJSON(w, http.StatusOK, it)
	return nil
}

func (s *Server) bulk(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	var req struct {
		IDs []int64 `json:"ids"`
		review.Decision
	}
	if err := api.ReadJSON(w, r, &req); err != nil {
		return err
	}
	res, err := s.svc.Bulk(r.Context(), review.FromPrincipal(p), req.IDs, req.Decision)
	if err != nil {
		return reviewError(err)
	}
	ok := 0
	for _, b := range res {
		if b.OK {
			ok++
		}
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"decided": ok, "failed": len(res) - ok, "results": res})
	return nil
}

func (s *Server) audit(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	q := r.URL.Query()
	f := review.AuditFilter{Actor: q.Get("actor"), Action: q.Get("action"), DesignID: q.Get("design")}
	var err error
	if f.ItemID, err = intParam(r, "item", 1, 1<<62); err != nil {
		return err
	}
	if f.BeforeID, err = intParam(r, "before", 1, 1<<62); err != nil {
		return err
	}
	limit, err := intParam(r, "limit", 1, 5000)
	if err != nil {
		return err
	}
	f.Limit = int(limit)
	for name, dst := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		if v := q.Get(name); v != "" {
			if *dst, err = time.Parse(time.RFC3339, v); err != nil {
				return api.BadRequest("invalid_"+name, "%s must be an RFC 3339 time", name)
			}
		}
	}
	rows, err := s.svc.Audit(r.Context(), review.FromPrincipal(p), f)
	if err != nil {
		return reviewError(err)
	}
	if rows == nil {
		rows = []review.AuditEntry{}
	}
	switch q.Get("format") {
	case "", "json":
		api.WriteJSON(w, http.StatusOK, map[string]any{"audit": rows})
	case "csv":
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="review-audit.csv"`)
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"id", "at", "actor", "action", "tenant_id", "design_id", "item_id", "data", "prev_hash", "hash"})
		for _, e := range rows {
			item := ""
			if e.ItemID != 0 {
				item = strconv.FormatInt(e.ItemID, 10)
			}
			_ = cw.Write([]string{strconv.FormatInt(e.ID, 10), e.At.UTC().Format(time.RFC3339Nano), csvSafe(e.Actor), e.Action, e.TenantID, e.DesignID, item, csvSafe(string(e.Data)), e.PrevHash, e.Hash})
		}
		cw.Flush()
	default:
		return api.BadRequest("invalid_format", "format must be json or csv")
	}
	return nil
}

// csvSafe defuses spreadsheet formula injection in exported cells.
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@') {
		return "'" + s
	}
	return s
}

func (s *Server) qa(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	rep, err := s.svc.QAReport(r.Context(), review.FromPrincipal(p))
	if err != nil {
		return reviewError(err)
	}
	api.WriteJSON(w, http.StatusOK, rep)
	return nil
}

func (s *Server) stats(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	days := 7
	if v := r.URL.Query().Get("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 90 {
			return api.BadRequest("invalid_days", "days must be 1..90")
		}
		days = n
	}
	since := time.Now().AddDate(0, 0, -days)
	st, err := s.svc.Stats(r.Context(), review.FromPrincipal(p), since)
	if err != nil {
		return reviewError(err)
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"since": since, "days": days, "reviewers": st})
	return nil
}

func (s *Server) fileAppeal(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	var req struct {
		Message string `json:"message"`
	}
	if err := api.ReadJSON(w, r, &req); err != nil {
		return err
	}
	a, err := s.svc.FileAppeal(r.Context(), p.TenantID, r.PathValue("id"), "key:"+p.KeyPrefix, req.Message)
	if err != nil {
		return reviewError(err)
	}
	w.Header().Set("Location", "/v1/designs/"+a.DesignID+"/appeals")
	api.WriteJSON(w, http.StatusCreated, a)
	return nil
}

func (s *Server) appeals(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	as, err := s.svc.Appeals(r.Context(), p.TenantID, r.PathValue("id"))
	if err != nil {
		return reviewError(err)
	}
	if as == nil {
		as = []review.Appeal{}
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"appeals": as})
	return nil
}
