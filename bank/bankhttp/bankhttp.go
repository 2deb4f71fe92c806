// Package bankhttp serves the banks over the API: list and search entries,
// add an entry from an uploaded reference image, edit its metadata, disable
// it until a time, delete it, set a bank's threshold, read the audit trail,
// and keep tenants' allow-lists (licences). It builds api.Routes that the
// composition root hands to the API; every change goes through bank.Store,
// which versions, audits and announces it, so running workers pick it up
// within seconds.
//
// Banks are platform-wide: only the platform operator's keys read or change
// them. Allow-lists are per tenant: a tenant's legal or admin keys keep
// their own tenant's licences; the platform's keys may act for any tenant.
package bankhttp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/muster-dev/muster/api"
	"github.com/muster-dev/muster/bank"
	"github.com/muster-dev/muster/bank/match"
	"github.com/muster-dev/muster/store"
)

// MaxImageBytes is the largest reference image accepted by the add route.
const MaxImageBytes = 8 << 20

// LicenceHook is called after a licence is granted or revoked and
// committed: it queues the durable job that re-decides the tenant's
// affected designs and names it. actor names who changed the licence. An
// error is answered as one (500): the licence is recorded, and granting or
// revoking it again (idempotent) queues the job.
type LicenceHook func(ctx context.Context, actor, tenantID, bankName, entryID string) (Redecision, error)

// Redecision names the queued job re-deciding a tenant's designs after a
// licence change; its progress is at Href (GET).
type Redecision struct {
	ID     int64  `json:"id"`
	Status string `json:"status"`
	Href   string `json:"href"`
}

// licenceAnswer is the answer to a licence change: the bank change and,
// when designs are re-decided, the job doing it.
type licenceAnswer struct {
	bank.Change
	Redecision *Redecision `json:"redecision,omitempty"`
}

// Config configures the bank routes.
type Config struct {
	// Match configures preparing uploaded references (zero: the defaults).
	Match match.Config
	// OnLicence, if set, runs after every allow-list change (queues the
	// re-decision of the tenant's affected designs).
	OnLicence LicenceHook
	// Logger receives errors of OnLicence; nil discards them.
	Logger *slog.Logger
}

type server struct {
	banks *bank.Store
	cfg   Config
}

// Routes returns the bank and allow-list routes.
func Routes(banks *bank.Store, cfg Config) []api.Route {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &server{banks: banks, cfg: cfg}
	read := []string{store.RoleLegal, store.RoleAdmin, store.RoleReviewer}
	edit := []string{store.RoleLegal, store.RoleAdmin}
	return []api.Route{
		{Method: "GET", Pattern: "/v1/banks", Roles: read, Summary: "List the banks with their kind, version and threshold", Handler: s.listBanks, Platform: true},
		{Method: "GET", Pattern: "/v1/banks/{bank}", Roles: read, Summary: "One bank", Handler: s.getBank, Platform: true},
		{Method: "PUT", Pattern: "/v1/banks/{bank}/threshold", Roles: edit, Summary: "Set a bank's match threshold ({threshold})", Handler: s.putThreshold, Platform: true},
		{Method: "GET", Pattern: "/v1/banks/{bank}/entries", Roles: read, Summary: "Search a bank's entries (?q=&after=&limit=)", Handler: s.searchEntries, Platform: true},
		{Method: "POST", Pattern: "/v1/banks/{bank}/entries", Roles: edit, Summary: "Add an entry from a reference image (multipart: image, entry JSON)", Handler: s.addEntry, Platform: true},
		{Method: "GET", Pattern: "/v1/banks/{bank}/entries/{id}", Roles: read, Summary: "One entry's metadata", Handler: s.getEntry, Platform: true},
		{Method: "GET", Pattern: "/v1/banks/{bank}/entries/{id}/image", Roles: read, Summary: "An entry's reference image (PNG)", Handler: s.entryImage, Platform: true},
		{Method: "PATCH", Pattern: "/v1/banks/{bank}/entries/{id}", Roles: edit, Summary: "Edit an entry's metadata (label, owner, jurisdictions, classes, famous, word_marks, notes)", Handler: s.patchEntry, Platform: true},
		{Method: "POST", Pattern: "/v1/banks/{bank}/entries/{id}/disable", Roles: edit, Summary: "Disable an entry, optionally until a time ({until, note})", Handler: s.disableEntry, Platform: true},
		{Method: "POST", Pattern: "/v1/banks/{bank}/entries/{id}/enable", Roles: edit, Summary: "Enable a disabled entry", Handler: s.enableEntry, Platform: true},
		{Method: "DELETE", Pattern: "/v1/banks/{bank}/entries/{id}", Roles: edit, Summary: "Delete an entry", Handler: s.deleteEntry, Platform: true},
		{Method: "GET", Pattern: "/v1/banks/{bank}/audit", Roles: read, Summary: "A bank's audit trail (?since=VERSION)", Handler: s.audit, Platform: true},
		{Method: "GET", Pattern: "/v1/licences", Roles: edit, Summary: "The tenant's allow-list (licences); the platform may pass ?tenant=", Handler: s.listLicences},
		{Method: "POST", Pattern: "/v1/licences", Roles: edit, Summary: "Grant a licence ({bank, entry_id, evidence, expires_at}; the platform may set tenant_id); 202 with the re-decision job of the tenant's affected designs", Handler: s.grantLicence},
		{Method: "DELETE", Pattern: "/v1/licences/{bank}/{id}", Roles: edit, Summary: "Revoke a licence (the platform may pass ?tenant=); 202 with the re-decision job of the tenant's affected designs", Handler: s.revokeLicence},
	}
}

func actor(p store.Principal) string { return "key:" + p.KeyPrefix }

// bankError maps the bank package's typed errors to API errors.
func bankError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, bank.ErrNotFound):
		return &api.Error{Status: http.StatusNotFound, Code: "not_found", Message: err.Error()}
	case errors.Is(err, bank.ErrInvalid):
		return &api.Error{Status: http.StatusBadRequest, Code: "invalid_entry", Message: err.Error()}
	}
	if e, ok := api.ImageError(err); ok {
		return e
	}
	return err
}

func (s *server) listBanks(w http.ResponseWriter, r *http.Request, _ store.Principal) error {
	bs, err := s.banks.Banks(r.Context())
	if err != nil {
		return err
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"banks": bs})
	return nil
}

func (s *server) getBank(w http.ResponseWriter, r *http.Request, _ store.Principal) error {
	b, err := s.banks.Bank(r.Context(), r.PathValue("bank"))
	if err != nil {
		return bankError(err)
	}
	api.WriteJSON(w, http.StatusOK, b)
	return nil
}

func (s *server) putThreshold(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	var body struct {
		Threshold float64 `json:"threshold"`
	}
	if err := api.ReadJSON(w, r, &body); err != nil {
		return err
	}
	ch, err := s.banks.SetThreshold(r.Context(), r.PathValue("bank"), body.Threshold, actor(p))
	if err != nil {
		return bankError(err)
	}
	api.WriteJSON(w, http.StatusOK, ch)
	return nil
}

func (s *server) searchEntries(w http.ResponseWriter, r *http.Request, _ store.Principal) error {
	q := r.URL.Query()
	o := bank.SearchOptions{Query: q.Get("q"), After: q.Get("after")}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil {
			return api.BadRequest("invalid_limit", "limit %q is not a number", l)
		}
		o.Limit = n
	}
	es, err := s.banks.SearchEntries(r.Context(), r.PathValue("bank"), o)
	if err != nil {
		return bankError(err)
	}
	ids := make([]string, len(es))
	for i, e := range es {
		ids[i] = e.ID
	}
	mis, err := s.banks.Misfires(r.Context(), r.PathValue("bank"), ids)
	if err != nil {
		return err
	}
	list := make([]entryOut, len(es))
	for i, e := range es {
		list[i] = entryOut{Entry: e, Misfires: mis[e.ID]}
	}
	out := map[string]any{"entries": list}
	if o.Limit == 0 {
		o.Limit = 50
	}
	if len(es) == o.Limit {
		out["next_after"] = es[len(es)-1].ID
	}
	api.WriteJSON(w, http.StatusOK, out)
	return nil
}

// entryOut is an entry as the API shows it: its metadata and how often
// reviewers marked its findings wrong ("not this mark", every tenant's).
type entryOut struct {
	bank.Entry
	Misfires int `json:"misfires"`
}

func (s *server) getEntry(w http.ResponseWriter, r *http.Request, _ store.Principal) error {
	e, err := s.banks.Entry(r.Context(), r.PathValue("bank"), r.PathValue("id"))
	if err != nil {
		return bankError(err)
	}
	mis, err := s.banks.Misfires(r.Context(), e.Bank, []string{e.ID})
	if err != nil {
		return err
	}
	api.WriteJSON(w, http.StatusOK, entryOut{Entry: e, Misfires: mis[e.ID]})
	return nil
}

func (s *server) entryImage(w http.ResponseWriter, r *http.Request, _ store.Principal) error {
	e, err := s.banks.Entry(r.Context(), r.PathValue("bank"), r.PathValue("id"))
	if err != nil {
		return bankError(err)
	}
	if len(e.ReferencePNG) == 0 {
		return &api.Error{Status: http.StatusNotFound, Code: "not_found", Message: "entry has no stored reference image"}
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "private, max-age=60")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, err = w.Write(e.ReferencePNG)
	return err
}

// entryMeta is the editable metadata of an entry, as the add and edit
// routes accept it. Absent fields keep their value on edit.
type entryMeta struct {
	ID            string    `json:"id"`
	Label         *string   `json:"label"`
	Owner         *string   `json:"owner"`
	Jurisdictions *[]string `json:"jurisdictions"`
	Classes       *[]int    `json:"classes"`
	Famous        *bool     `json:"famous"`
	WordMarks     *[]string `json:"word_marks"`
	Notes         *string   `json:"notes"`
	Source        *string   `json:"source"`
}

func (m entryMeta) apply(e *bank.Entry) {
	if m.Label != nil {
		e.Label = strings.TrimSpace(*m.Label)
	}
	if m.Owner != nil {
		e.Owner = strings.TrimSpace(*m.Owner)
	}
	if m.Jurisdictions != nil {
		e.Jurisdictions = *m.Jurisdictions
	}
	if m.Classes != nil {
		e.Classes = *m.Classes
	}
	if m.Famous != nil {
		e.Famous = *m.Famous
	}
	if m.WordMarks != nil {
		e.WordMarks = *m.WordMarks
	}
	if m.Notes != nil {
		e.Notes = *m.Notes
	}
	if m.Source != nil {
		e.Source = *m.Source
	}
}

func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return api.BadRequest("invalid_json", "entry: %v", err)
	}
	return nil
}

func (s *server) addEntry(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	r.Body = http.MaxBytesReader(w, r.Body, MaxImageBytes+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		return api.BadRequest("invalid_multipart", "send multipart/form-data with an image part and an entry part (JSON): %v", err)
	}
	var img, meta []byte
	var mediaType string
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return api.BadRequest("invalid_multipart", "%v", err)
		}
		switch part.FormName() {
		case "image":
			img, err = io.ReadAll(io.LimitReader(part, MaxImageBytes+1))
			if err == nil && len(img) > MaxImageBytes {
				return &api.Error{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Message: fmt.Sprintf("reference image exceeds %d bytes", MaxImageBytes)}
			}
			mediaType = part.Header.Get("Content-Type")
		case "entry":
			meta, err = io.ReadAll(io.LimitReader(part, 64<<10))
		default:
			return api.BadRequest("invalid_multipart", "unknown part %q (image, entry)", part.FormName())
		}
		if err != nil {
			return err
		}
	}
	if len(img) == 0 {
		return api.BadRequest("missing_image", "an image part is required")
	}
	if len(meta) == 0 {
		return api.BadRequest("missing_entry", "an entry part (JSON metadata with at least id and label) is required")
	}
	var m entryMeta
	if err := decodeStrict(meta, &m); err != nil {
		return err
	}
	e := bank.Entry{ID: m.ID, Source: "api upload by " + actor(p)}
	m.apply(&e)
	if mediaType == "application/octet-stream" {
		mediaType = ""
	}
	ch, err := bank.AddImage(r.Context(), s.banks, r.PathValue("bank"), bank.AddRequest{Entry: e, Image: img, MediaType: mediaType}, s.cfg.Match, actor(p))
	if err != nil {
		return bankError(err)
	}
	api.WriteJSON(w, http.StatusCreated, ch)
	return nil
}

func (s *server) patchEntry(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	var m entryMeta
	if err := api.ReadJSON(w, r, &m); err != nil {
		return err
	}
	if m.ID != "" && m.ID != r.PathValue("id") {
		return api.BadRequest("invalid_entry", "the id cannot be changed")
	}
	e, err := s.banks.Entry(r.Context(), r.PathValue("bank"), r.PathValue("id"))
	if err != nil {
		return bankError(err)
	}
	m.apply(&e)
	ch, err := s.banks.PutEntries(r.Context(), e.Bank, []bank.Entry{e}, actor(p))
	if err != nil {
		return bankError(err)
	}
	api.WriteJSON(w, http.StatusOK, ch)
	return nil
}

func (s *server) disableEntry(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	var body struct {
		Until *time.Time `json:"until"`
		Note  string     `json:"note"`
	}
	if err := api.ReadJSON(w, r, &body); err != nil {
		return err
	}
	if body.Until != nil && !body.Until.After(time.Now()) {
		return api.BadRequest("invalid_until", "until must be in the future")
	}
	ch, err := s.banks.DisableEntry(r.Context(), r.PathValue("bank"), r.PathValue("id"), body.Until, body.Note, actor(p))
	if err != nil {
		return bankError(err)
	}
	api.WriteJSON(w, http.StatusOK, ch)
	return nil
}

func (s *server) enableEntry(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	ch, err := s.banks.EnableEntry(r.Context(), r.PathValue("bank"), r.PathValue("id"), actor(p))
	if err != nil {
		return bankError(err)
	}
	api.WriteJSON(w, http.StatusOK, ch)
	return nil
}

func (s *server) deleteEntry(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	ch, err := s.banks.DeleteEntry(r.Context(), r.PathValue("bank"), r.PathValue("id"), actor(p))
	if err != nil {
		return bankError(err)
	}
	api.WriteJSON(w, http.StatusOK, ch)
	return nil
}

func (s *server) audit(w http.ResponseWriter, r *http.Request, _ store.Principal) error {
	var since int64
	if v := r.URL.Query().Get("since"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return api.BadRequest("invalid_since", "since %q is not a version number", v)
		}
		since = n
	}
	if _, err := s.banks.Bank(r.Context(), r.PathValue("bank")); err != nil {
		return bankError(err)
	}
	recs, err := s.banks.Audit(r.Context(), r.PathValue("bank"), since)
	if err != nil {
		return err
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"audit": recs})
	return nil
}

// tenantOf is the tenant a licence route acts for: the caller's own, or,
// for the platform's keys only, the one named.
func tenantOf(p store.Principal, named string) (string, error) {
	if named == "" || named == p.TenantID {
		return p.TenantID, nil
	}
	if !p.Platform {
		return "", &api.Error{Status: http.StatusForbidden, Code: "forbidden", Message: "a tenant keeps only its own licences"}
	}
	return named, nil
}

func (s *server) listLicences(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	tenant, err := tenantOf(p, r.URL.Query().Get("tenant"))
	if err != nil {
		return err
	}
	as, err := s.banks.TenantAllowlist(r.Context(), tenant)
	if err != nil {
		return err
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"licences": as})
	return nil
}

func (s *server) grantLicence(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	var body struct {
		Bank      string     `json:"bank"`
		EntryID   string     `json:"entry_id"`
		TenantID  string     `json:"tenant_id"`
		Evidence  string     `json:"evidence"`
		ExpiresAt *time.Time `json:"expires_at"`
	}
	if err := api.ReadJSON(w, r, &body); err != nil {
		return err
	}
	tenant, err := tenantOf(p, body.TenantID)
	if err != nil {
		return err
	}
	if strings.TrimSpace(body.Evidence) == "" {
		return api.BadRequest("missing_evidence", "a licence needs evidence (registration, contract or licence reference)")
	}
	if body.ExpiresAt != nil && !body.ExpiresAt.After(time.Now()) {
		return api.BadRequest("invalid_expiry", "expires_at must be in the future")
	}
	if _, err := s.banks.Entry(r.Context(), body.Bank, body.EntryID); err != nil {
		return bankError(err)
	}
	ch, err := s.banks.Allow(r.Context(), bank.Allow{Bank: body.Bank, EntryID: body.EntryID, TenantID: tenant, Evidence: body.Evidence, ExpiresAt: body.ExpiresAt}, actor(p))
	if err != nil {
		return bankError(err)
	}
	return s.licenceChanged(w, r, actor(p), tenant, body.Bank, body.EntryID, ch, http.StatusCreated)
}

func (s *server) revokeLicence(w http.ResponseWriter, r *http.Request, p store.Principal) error {
	tenant, err := tenantOf(p, r.URL.Query().Get("tenant"))
	if err != nil {
		return err
	}
	ch, err := s.banks.Disallow(r.Context(), r.PathValue("bank"), r.PathValue("id"), tenant, actor(p))
	if err != nil {
		return bankError(err)
	}
	return s.licenceChanged(w, r, actor(p), tenant, r.PathValue("bank"), r.PathValue("id"), ch, http.StatusOK)
}

// licenceChanged queues the re-decision of the tenant's affected designs
// and answers 202 with the licence change and the job (Location: the job),
// or status when nothing is re-decided (no hook).
func (s *server) licenceChanged(w http.ResponseWriter, r *http.Request, who, tenant, bankName, entry string, ch bank.Change, status int) error {
	if s.cfg.OnLicence == nil {
		api.WriteJSON(w, status, licenceAnswer{Change: ch})
		return nil
	}
	job, err := s.cfg.OnLicence(context.WithoutCancel(r.Context()), who, tenant, bankName, entry)
	if err != nil {
		s.cfg.Logger.Error("bankhttp: queue the re-decision after a licence change", "tenant", tenant, "bank", bankName, "entry", entry, "err", err)
		return fmt.Errorf("licence recorded, but its re-decision was not queued (repeat the request): %w", err)
	}
	w.Header().Set("Location", job.Href)
	api.WriteJSON(w, http.StatusAccepted, licenceAnswer{Change: ch, Redecision: &job})
	return nil
}
