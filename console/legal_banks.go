package console

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/muster-dev/muster/accounts"
	"github.com/muster-dev/muster/bank"
	"github.com/muster-dev/muster/internal/imaging"
	"github.com/muster-dev/muster/store"
)

// MaxReferenceBytes is the largest reference image the upload accepts (as
// the API's bank route).
const MaxReferenceBytes = 8 << 20

// bankErr maps the bank package's errors to what the user sees.
func bankErr(err error) error {
	var ie *imaging.Error
	switch {
	case errors.Is(err, bank.ErrNotFound):
		return errorf(http.StatusNotFound, "%v", err)
	case errors.Is(err, bank.ErrInvalid):
		return errorf(http.StatusBadRequest, "%v", err)
	case errors.As(err, &ie):
		return errorf(http.StatusBadRequest, "The image was refused: %v", err)
	}
	return err
}

func bankActor(sess *accounts.Session) string { return legalActor(sess).Name }

type banksData struct {
	legalPage
	Banks []bank.Bank
}

func (s *Server) legalBanks(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	bs, err := s.deps.Legal.Banks.Banks(r.Context())
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "legal_banks", s.page(r, sess, "Banks", "legal", banksData{legalPage: s.legalNav(r, sess, "/console/legal/banks"), Banks: bs}))
	return nil
}

type legalEntryRow struct {
	bank.Entry
	Stats  store.EntryStats
	Active bool
	// Misfires counts reviewers' "not this mark" corrections of the entry.
	Misfires int
	// Pct is the share of matches reviewers overturned ("" when none matched).
	Pct string
}

type bankData struct {
	legalPage
	Bank      bank.Bank
	Entries   []legalEntryRow
	Query     string
	After     string
	NextAfter string
	Form      legalEntryForm
	Error     string
	Audit     []bank.AuditRecord
}

type legalEntryForm struct {
	ID, Label, Owner, Jurisdictions, Classes, WordMarks, Notes string
	Famous                                                     bool
}

func (s *Server) bankPage(w http.ResponseWriter, r *http.Request, sess *accounts.Session, status int, f legalEntryForm, msg string) error {
	name := r.PathValue("bank")
	b, err := s.deps.Legal.Banks.Bank(r.Context(), name)
	if err != nil {
		return bankErr(err)
	}
	q := r.URL.Query()
	es, err := s.deps.Legal.Banks.SearchEntries(r.Context(), name, bank.SearchOptions{Query: q.Get("q"), After: q.Get("after"), Limit: 50})
	if err != nil {
		return bankErr(err)
	}
	ids := make([]string, len(es))
	for i, e := range es {
		ids[i] = e.ID
	}
	stats, err := s.deps.Store.EntryStats(r.Context(), name, ids)
	if err != nil {
		return err
	}
	misfires, err := s.deps.Legal.Banks.Misfires(r.Context(), name, ids)
	if err != nil {
		return err
	}
	data := bankData{legalPage: s.legalNav(r, sess, "/console/legal/banks"), Bank: b, Query: q.Get("q"), After: q.Get("after"), Form: f, Error: msg}
	now := time.Now()
	for _, e := range es {
		row := legalEntryRow{Entry: e, Stats: stats[e.ID], Active: e.Active(now), Misfires: misfires[e.ID]}
		if row.Stats.Matched > 0 {
			row.Pct = fmt.Sprintf("%.0f%%", 100*float64(row.Stats.Overturned)/float64(row.Stats.Matched))
		}
		data.Entries = append(data.Entries, row)
	}
	if len(es) == 50 {
		data.NextAfter = es[len(es)-1].ID
	}
	audit, err := s.deps.Legal.Banks.Audit(r.Context(), name, max(b.Version-20, 0))
	if err != nil {
		return err
	}
	for i := len(audit) - 1; i >= 0; i-- {
		data.Audit = append(data.Audit, audit[i])
	}
	s.render(w, r, status, "legal_bank", s.page(r, sess, "Bank "+b.Name, "legal", data))
	return nil
}

func (s *Server) legalBank(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	return s.bankPage(w, r, sess, http.StatusOK, legalEntryForm{}, "")
}

func (s *Server) legalBankThreshold(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	t, err := strconv.ParseFloat(strings.TrimSpace(r.PostFormValue("threshold")), 64)
	if err != nil {
		return errorf(http.StatusBadRequest, "The threshold is a number in (0, 1].")
	}
	if _, err := s.deps.Legal.Banks.SetThreshold(r.Context(), r.PathValue("bank"), t, bankActor(sess)); err != nil {
		return bankErr(err)
	}
	redirect(w, r, "/console/legal/banks/"+url.PathEscape(r.PathValue("bank"))+"?saved=threshold")
	return nil
}

func readEntryForm(r *http.Request) legalEntryForm {
	return legalEntryForm{ID: strings.TrimSpace(r.FormValue("id")), Label: strings.TrimSpace(r.FormValue("label")), Owner: strings.TrimSpace(r.FormValue("owner")),
		Jurisdictions: r.FormValue("jurisdictions"), Classes: r.FormValue("classes"), WordMarks: r.FormValue("word_marks"),
		Notes: strings.TrimSpace(r.FormValue("notes")), Famous: r.FormValue("famous") == "on"}
}

// apply sets the form's metadata on e.
func (f legalEntryForm) apply(e *bank.Entry) error {
	e.Label, e.Owner, e.Famous, e.Notes = f.Label, f.Owner, f.Famous, f.Notes
	e.Jurisdictions = nil
	for _, j := range legalSplitList(f.Jurisdictions) {
		if j != "*" {
			e.Jurisdictions = append(e.Jurisdictions, j)
		}
	}
	e.Classes = nil
	for _, c := range strings.FieldsFunc(f.Classes, func(r rune) bool { return r == ',' || r == ' ' }) {
		n, err := strconv.Atoi(c)
		if err != nil {
			return fmt.Errorf("%w: Nice class %q is not a number", bank.ErrInvalid, c)
		}
		e.Classes = append(e.Classes, n)
	}
	e.WordMarks = nil
	for _, w := range strings.Split(f.WordMarks, ",") {
		if w = strings.TrimSpace(w); w != "" {
			e.WordMarks = append(e.WordMarks, w)
		}
	}
	return nil
}

func formOfEntry(e bank.Entry) legalEntryForm {
	cls := make([]string, len(e.Classes))
	for i, c := range e.Classes {
		cls[i] = strconv.Itoa(c)
	}
	return legalEntryForm{ID: e.ID, Label: e.Label, Owner: e.Owner, Jurisdictions: strings.Join(e.Jurisdictions, ", "), Classes: strings.Join(cls, ", "),
		WordMarks: strings.Join(e.WordMarks, ", "), Notes: e.Notes, Famous: e.Famous}
}

// legalEntryAdd adds an entry from an uploaded image, through the same
// bank.AddImage the API's upload route uses: decoded by internal/imaging,
// prepared, stored as a new bank version, audited and announced.
func (s *Server) legalEntryAdd(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	r.Body = http.MaxBytesReader(w, r.Body, MaxReferenceBytes+1<<20)
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		return errorf(http.StatusBadRequest, "Send the form with an image (at most %d MiB).", MaxReferenceBytes>>20)
	}
	f := readEntryForm(r)
	file, hdr, err := r.FormFile("image")
	if err != nil {
		return s.bankPage(w, r, sess, http.StatusBadRequest, f, "Choose a reference image (PNG, JPEG, GIF or WebP).")
	}
	defer file.Close()
	img, err := io.ReadAll(io.LimitReader(file, MaxReferenceBytes+1))
	if err != nil {
		return err
	}
	if len(img) > MaxReferenceBytes {
		return s.bankPage(w, r, sess, http.StatusRequestEntityTooLarge, f, fmt.Sprintf("The image exceeds %d MiB.", MaxReferenceBytes>>20))
	}
	e := bank.Entry{ID: f.ID, Source: "console upload by " + bankActor(sess)}
	if err := f.apply(&e); err != nil {
		return s.bankPage(w, r, sess, http.StatusBadRequest, f, err.Error())
	}
	mt := hdr.Header.Get("Content-Type")
	if mt == "application/octet-stream" {
		mt = ""
	}
	if _, err := s.deps.Legal.Banks.Entry(r.Context(), r.PathValue("bank"), f.ID); err == nil {
		return s.bankPage(w, r, sess, http.StatusConflict, f, fmt.Sprintf("The bank already has an entry %q: edit it, or choose another id.", f.ID))
	}
	ch, err := bank.AddImage(r.Context(), s.deps.Legal.Banks, r.PathValue("bank"), bank.AddRequest{Entry: e, Image: img, MediaType: mt}, s.deps.Legal.Match, bankActor(sess))
	if err != nil && ch.Version == 0 {
		if e := bankErr(err); e != err {
			var ce *Error
			errors.As(e, &ce)
			return s.bankPage(w, r, sess, ce.Status, f, ce.Message)
		}
		return err
	}
	if err != nil {
		s.cfg.Logger.Error("console: bank entry stored but not announced", "bank", ch.Bank, "version", ch.Version, "err", err)
	}
	s.cfg.Logger.Info("console: bank entry added", "bank", ch.Bank, "entry", f.ID, "version", ch.Version, "by", bankActor(sess))
	redirect(w, r, "/console/legal/banks/"+url.PathEscape(r.PathValue("bank"))+"/entries/"+url.PathEscape(f.ID)+"?saved=entry")
	return nil
}

type legalEntryData struct {
	legalPage
	Entry   bank.Entry
	Form    legalEntryForm
	Stats   store.EntryStats
	Active  bool
	Designs []store.Design
	Audit   []bank.AuditRecord
}

func (s *Server) legalEntry(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	e, err := s.deps.Legal.Banks.Entry(r.Context(), r.PathValue("bank"), r.PathValue("id"))
	if err != nil {
		return bankErr(err)
	}
	stats, err := s.deps.Store.EntryStats(r.Context(), e.Bank, []string{e.ID})
	if err != nil {
		return err
	}
	ds, err := s.deps.Store.DesignsWithEntry(r.Context(), e.Bank, e.ID, 24)
	if err != nil {
		return err
	}
	all, err := s.deps.Legal.Banks.Audit(r.Context(), e.Bank, 0)
	if err != nil {
		return err
	}
	var audit []bank.AuditRecord
	for i := len(all) - 1; i >= 0 && len(audit) < 50; i-- {
		if all[i].EntryID == e.ID {
			audit = append(audit, all[i])
		}
	}
	data := legalEntryData{legalPage: s.legalNav(r, sess, "/console/legal/banks"), Entry: e, Form: formOfEntry(e), Stats: stats[e.ID],
		Active: e.Active(time.Now()), Designs: ds, Audit: audit}
	s.render(w, r, http.StatusOK, "legal_entry", s.page(r, sess, e.Label, "legal", data))
	return nil
}

func (s *Server) legalEntryImage(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	e, err := s.deps.Legal.Banks.Entry(r.Context(), r.PathValue("bank"), r.PathValue("id"))
	if err != nil {
		return bankErr(err)
	}
	if len(e.ReferencePNG) == 0 {
		return errorf(http.StatusNotFound, "This entry has no stored reference image.")
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "private, max-age=60")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
	_, _ = w.Write(e.ReferencePNG)
	return nil
}

func (s *Server) legalEntryEdit(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	e, err := s.deps.Legal.Banks.Entry(r.Context(), r.PathValue("bank"), r.PathValue("id"))
	if err != nil {
		return bankErr(err)
	}
	f := readEntryForm(r)
	if err := f.apply(&e); err != nil {
		return bankErr(err)
	}
	if _, err := s.deps.Legal.Banks.PutEntries(r.Context(), e.Bank, []bank.Entry{e}, bankActor(sess)); err != nil {
		return bankErr(err)
	}
	redirect(w, r, "/console/legal/banks/"+url.PathEscape(e.Bank)+"/entries/"+url.PathEscape(e.ID)+"?saved=entry")
	return nil
}

func (s *Server) legalEntryDisable(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	var until *time.Time
	if v := strings.TrimSpace(r.PostFormValue("until")); v != "" {
		t, err := time.Parse("2006-01-02", v)
		if err != nil {
			return errorf(http.StatusBadRequest, "The date must be YYYY-MM-DD.")
		}
		if !t.After(time.Now()) {
			return errorf(http.StatusBadRequest, "The date must be in the future.")
		}
		until = &t
	}
	if _, err := s.deps.Legal.Banks.DisableEntry(r.Context(), r.PathValue("bank"), r.PathValue("id"), until, strings.TrimSpace(r.PostFormValue("note")), bankActor(sess)); err != nil {
		return bankErr(err)
	}
	redirect(w, r, "/console/legal/banks/"+url.PathEscape(r.PathValue("bank"))+"/entries/"+url.PathEscape(r.PathValue("id"))+"?saved=disabled")
	return nil
}

func (s *Server) legalEntryEnable(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	if _, err := s.deps.Legal.Banks.EnableEntry(r.Context(), r.PathValue("bank"), r.PathValue("id"), bankActor(sess)); err != nil {
		return bankErr(err)
	}
	redirect(w, r, "/console/legal/banks/"+url.PathEscape(r.PathValue("bank"))+"/entries/"+url.PathEscape(r.PathValue("id"))+"?saved=enabled")
	return nil
}

// ---- licences ----

type licenceRow struct {
	bank.Allow
	Label string
	Valid bool
}

type licencesData struct {
	legalPage
	Tenant   store.Tenant
	Tenants  []store.Tenant
	Platform bool
	Licences []licenceRow
	Banks    []bank.Bank
}

// licenceTenant is the tenant a licence page or action is for: the user's
// own, or for platform users the one named. Another tenant's user naming a
// tenant not theirs is refused.
func (s *Server) licenceTenant(r *http.Request, sess *accounts.Session, named string) (store.Tenant, error) {
	if named == "" || named == sess.User.TenantID {
		return s.deps.Store.Tenant(r.Context(), sess.User.TenantID)
	}
	if !sess.User.Platform {
		return store.Tenant{}, errorf(http.StatusForbidden, "You keep only your own tenant's licences.")
	}
	if _, err := parseUUID(named); err != nil {
		return store.Tenant{}, errorf(http.StatusNotFound, "No such tenant.")
	}
	t, err := s.deps.Store.Tenant(r.Context(), named)
	if errors.Is(err, store.ErrNotFound) {
		return store.Tenant{}, errorf(http.StatusNotFound, "No such tenant.")
	}
	return t, err
}

func (s *Server) legalLicences(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	t, err := s.licenceTenant(r, sess, r.URL.Query().Get("tenant"))
	if err != nil {
		return err
	}
	as, err := s.deps.Legal.Banks.TenantAllowlist(r.Context(), t.ID)
	if err != nil {
		return err
	}
	data := licencesData{legalPage: s.legalNav(r, sess, "/console/legal/licences"), Tenant: t, Platform: sess.User.Platform}
	now := time.Now()
	for _, a := range as {
		row := licenceRow{Allow: a, Valid: a.Valid(now)}
		if e, err := s.deps.Legal.Banks.Entry(r.Context(), a.Bank, a.EntryID); err == nil {
			row.Label = e.Label
		}
		data.Licences = append(data.Licences, row)
	}
	if sess.User.Platform {
		if data.Tenants, err = s.deps.Store.Tenants(r.Context()); err != nil {
			return err
		}
	}
	if data.Banks, err = s.deps.Legal.Banks.Banks(r.Context()); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "legal_licences", s.page(r, sess, "Licences", "legal", data))
	return nil
}

func (s *Server) licenceDone(w http.ResponseWriter, r *http.Request, sess *accounts.Session, t store.Tenant, bankName, entryID, saved string) {
	if f := s.deps.Legal.LicenceChanged; f != nil {
		if err := f(r.Context(), bankActor(sess), t.ID, bankName, entryID); err != nil {
			s.cfg.Logger.Error("console: re-decide after licence change", "tenant", t.ID, "bank", bankName, "entry", entryID, "err", err)
		}
	}
	target := "/console/legal/licences?saved=" + saved
	if t.ID != sess.User.TenantID {
		target += "&tenant=" + url.QueryEscape(t.ID)
	}
	redirect(w, r, target)
}

func (s *Server) legalLicenceGrant(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	t, err := s.licenceTenant(r, sess, r.PostFormValue("tenant"))
	if err != nil {
		return err
	}
	bankName, entryID := r.PostFormValue("bank"), strings.TrimSpace(r.PostFormValue("entry"))
	evidence := strings.TrimSpace(r.PostFormValue("evidence"))
	if evidence == "" {
		return errorf(http.StatusBadRequest, "A licence needs evidence: a registration, contract or licence reference.")
	}
	var expires *time.Time
	if v := strings.TrimSpace(r.PostFormValue("expires")); v != "" {
		ts, err := time.Parse("2006-01-02", v)
		if err != nil {
			return errorf(http.StatusBadRequest, "The expiry must be a date (YYYY-MM-DD).")
		}
		if !ts.After(time.Now()) {
			return errorf(http.StatusBadRequest, "The expiry must be in the future.")
		}
		expires = &ts
	}
	if _, err := s.deps.Legal.Banks.Entry(r.Context(), bankName, entryID); err != nil {
		return bankErr(err)
	}
	if _, err := s.deps.Legal.Banks.Allow(r.Context(), bank.Allow{Bank: bankName, EntryID: entryID, TenantID: t.ID, Evidence: evidence, ExpiresAt: expires}, bankActor(sess)); err != nil {
		return bankErr(err)
	}
	s.licenceDone(w, r, sess, t, bankName, entryID, "licence")
	return nil
}

func (s *Server) legalLicenceRevoke(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	t, err := s.licenceTenant(r, sess, r.PostFormValue("tenant"))
	if err != nil {
		return err
	}
	bankName, entryID := r.PostFormValue("bank"), r.PostFormValue("entry")
	if _, err := s.deps.Legal.Banks.Disallow(r.Context(), bankName, entryID, t.ID, bankActor(sess)); err != nil {
		return bankErr(err)
	}
	s.licenceDone(w, r, sess, t, bankName, entryID, "revoked")
	return nil
}
