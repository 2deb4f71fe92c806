package console

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/muster-dev/muster/accounts"
	"github.com/muster-dev/muster/mustertype"
	"github.com/muster-dev/muster/review"
	"github.com/muster-dev/muster/store"
)

// Review is the review workflow the console's review pages act through;
// package review's *Service satisfies it. The console authenticates the
// user and names them as the reviewer; the service authorises (queue
// roles, tenant scope, four eyes).
type Review interface {
	Queues(ctx context.Context, r review.Reviewer) ([]review.QueueStats, error)
	Claim(ctx context.Context, r review.Reviewer, queue string) (review.Item, error)
	Heartbeat(ctx context.Context, r review.Reviewer, id int64) (review.Item, error)
	Release(ctx context.Context, r review.Reviewer, id int64, comment string) (review.Item, error)
	Escalate(ctx context.Context, r review.Reviewer, id int64, toQueue, comment string) (review.Item, error)
	AddComment(ctx context.Context, r review.Reviewer, id int64, body string) (review.Comment, error)
	Context(ctx context.Context, r review.Reviewer, id int64) (review.ItemContext, error)
	Decide(ctx context.Context, r review.Reviewer, id int64, d review.Decision) (review.Result, error)
	Items(ctx context.Context, r review.Reviewer, f review.ItemFilter) ([]review.Item, error)
	Audit(ctx context.Context, r review.Reviewer, f review.AuditFilter) ([]review.AuditEntry, error)
	QAReport(ctx context.Context, r review.Reviewer) (review.QAReport, error)
	Bulk(ctx context.Context, r review.Reviewer, ids []int64, d review.Decision) ([]review.BulkResult, error)
	Stats(ctx context.Context, r review.Reviewer, since time.Time) ([]review.ReviewerStats, error)
	MarkWrong(ctx context.Context, r review.Reviewer, itemID int64, t review.Target, note string) (review.Correction, error)
	WithdrawCorrection(ctx context.Context, r review.Reviewer, id int64, note string) (review.Correction, error)
	LogView(ctx context.Context, actor, tenantID, designID, view string, itemID int64) error
	DesignAccess(ctx context.Context, tenantID string, platform bool, designID string, limit int) ([]review.Access, error)
}

var _ Review = (*review.Service)(nil)

// reviewRoutes are the review section's pages.
func (s *Server) reviewRoutes() []Route {
	return []Route{
		{"GET", "/console/review", reviewRoles, "Review queues: depth, oldest age, SLA", s.queuesPage},
		{"POST", "/console/review/next", reviewRoles, "Claim the next item (of a queue, or of any)", s.next},
		{"GET", "/console/review/items", reviewRoles, "Review items, filtered by queue, state and kind", s.itemsPage},
		{"POST", "/console/review/bulk", reviewRoles, "Bulk: decide the selected items (up to 1,000) with one outcome for every market and one reason", s.bulk},
		{"GET", "/console/review/items/{id}", reviewRoles, "One item: design, findings, outcomes, decision form", s.itemPage},
		{"POST", "/console/review/items/{id}/heartbeat", reviewRoles, "Renew the lease while the item is shown", s.heartbeat},
		{"POST", "/console/review/items/{id}/decision", reviewRoles, "Decide per market (and open the next item)", s.decide},
		{"POST", "/console/review/items/{id}/skip", reviewRoles, "Skip: release the item to its queue", s.skip},
		{"POST", "/console/review/items/{id}/escalate", reviewRoles, "Escalate to another queue with a comment", s.escalate},
		{"POST", "/console/review/items/{id}/comments", reviewRoles, "Add an internal comment", s.comment},
		{"POST", "/console/review/items/{id}/corrections", reviewRoles, "Not this mark: mark a trademark, symbol or phrase finding wrong for these design bytes (bank, OCR) or this listing text", s.markWrong},
		{"POST", "/console/review/corrections/{id}/withdraw", reviewRoles, "Withdraw a not-this-mark correction (its author, legal, admin)", s.withdrawCorrection},
		{"GET", "/console/designs/{id}/access", allRoles, "Who viewed a design and when (access transparency)", s.accessPage},
		{"GET", "/console/review/audit", reviewRoles, "Review audit log, filterable, CSV export", s.auditPage},
		{"GET", "/console/review/qa", reviewRoles, "QA agreement with the automated outcome, per rule and analyzer", s.qaPage},
		{"GET", "/console/review/stats", reviewRoles, "Reviewers' work: decisions, handle time, skips, escalations, appeals overturned", s.statsPage},
		{"GET", "/console/banks/{bank}/entries/{entry}/reference", reviewRoles, "A bank entry's reference image (shown beside the region it matched)", s.reference},
	}
}

// reviewer is the signed-in user as the review service names them.
func reviewer(sess *accounts.Session) review.Reviewer {
	return review.Reviewer{ID: sess.User.Actor(), Role: sess.User.Role, TenantID: sess.User.TenantID, Platform: sess.User.Platform}
}

// reviewError turns the service's errors into messages for people.
func reviewError(err error) error {
	var ie *review.InputError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ie):
		return errorf(http.StatusBadRequest, "%s", ie.Message)
	case errors.Is(err, review.ErrNotClaimed):
		return errorf(http.StatusConflict, "You no longer hold this item's lease: it expired and went back to its queue, or someone else took it.")
	case errors.Is(err, review.ErrNotOpen):
		return errorf(http.StatusConflict, "This item was already decided or closed.")
	case errors.Is(err, review.ErrFourEyes):
		return errorf(http.StatusForbidden, "Four eyes: an appeal must be decided by someone other than the reviewer whose decision is appealed.")
	case errors.Is(err, review.ErrForbidden):
		return errorf(http.StatusForbidden, "Your role may not review this queue.")
	case errors.Is(err, review.ErrNotFound):
		return errorf(http.StatusNotFound, "No such item.")
	}
	return err
}

func itemID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errorf(http.StatusNotFound, "No such item.")
	}
	return id, nil
}

type queuesData struct {
	Queues  []review.QueueStats
	Message string
	Mine    []review.Item
}

func (s *Server) queuesPage(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	rv := reviewer(sess)
	qs, err := s.deps.Review.Queues(r.Context(), rv)
	if err != nil {
		return reviewError(err)
	}
	mine, err := s.deps.Review.Items(r.Context(), rv, review.ItemFilter{State: review.StateOpen, Limit: 200})
	if err != nil {
		return reviewError(err)
	}
	d := queuesData{Queues: qs}
	now := time.Now()
	for _, it := range mine {
		if it.ClaimedBy == rv.ID && it.Leased(now) {
			d.Mine = append(d.Mine, it)
		}
	}
	if q := r.URL.Query().Get("empty"); q != "" {
		d.Message = "Nothing is waiting" + map[bool]string{true: " in " + q, false: ""}[q != "any"] + ". Well done."
	}
	s.render(w, r, http.StatusOK, "queues", s.page(r, sess, "Review queues", "review", d))
	return nil
}

// next claims the next item and opens it; an empty queue returns to the
// queue page with a note.
func (s *Server) next(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	return s.claimAndOpen(w, r, sess, r.PostFormValue("queue"))
}

func (s *Server) claimAndOpen(w http.ResponseWriter, r *http.Request, sess *accounts.Session, queue string) error {
	it, err := s.deps.Review.Claim(r.Context(), reviewer(sess), queue)
	if errors.Is(err, review.ErrEmpty) {
		if queue == "" {
			queue = "any"
		}
		redirect(w, r, "/console/review?empty="+url.QueryEscape(queue))
		return nil
	}
	if err != nil {
		return reviewError(err)
	}
	redirect(w, r, fmt.Sprintf("/console/review/items/%d", it.ID))
	return nil
}

type itemsData struct {
	Items              []review.Item
	Queue, State, Kind string
	Queues             []review.QueueStats
	States, Kinds      []string
	NextBefore         int64
	Limit              int
	// Reasons for the bulk form; Bulk is the outcome of the last bulk
	// decision (nil: none).
	Reasons []review.ReasonCode
	Bulk    *bulkOutcome
}

// bulkOutcome is what a bulk decision did, shown above the list.
type bulkOutcome struct {
	Decided int
	Failed  []review.BulkResult
}

// itemsData is the items page's data for a filter: the items, the queues
// and the choices of its filter form (the page and the bulk form's answer
// show the same list).
func (s *Server) itemsData(ctx context.Context, rv review.Reviewer, f review.ItemFilter) (itemsData, error) {
	items, err := s.deps.Review.Items(ctx, rv, f)
	if err != nil {
		return itemsData{}, reviewError(err)
	}
	qs, err := s.deps.Review.Queues(ctx, rv)
	if err != nil {
		return itemsData{}, reviewError(err)
	}
	return itemsData{Items: items, Queue: f.Queue, State: f.State, Kind: f.Kind, Queues: qs, Limit: f.Limit, Reasons: review.Reasons(),
		States: []string{review.StateOpen, review.StateDecided, review.StateClosed},
		Kinds:  []string{review.KindFlagged, review.KindAppeal, review.KindQA, review.KindRedecide}}, nil
}

func (s *Server) itemsPage(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	rv := reviewer(sess)
	q := r.URL.Query()
	f := review.ItemFilter{Queue: q.Get("queue"), State: q.Get("state"), Kind: q.Get("kind"), Limit: 50}
	if b, err := strconv.ParseInt(q.Get("before"), 10, 64); err == nil {
		f.BeforeID = b
	}
	d, err := s.itemsData(r.Context(), rv, f)
	if err != nil {
		return err
	}
	if len(d.Items) == f.Limit {
		d.NextBefore = d.Items[len(d.Items)-1].ID
	}
	s.render(w, r, http.StatusOK, "items", s.page(r, sess, "Review items", "review", d))
	return nil
}

// marketRow is one market of the item page: the automated outcome, the
// rules that fired with their text and legal ground, and the current
// (possibly human) outcome.
type marketRow struct {
	Market, Automated, Current, Decided string
	Reasons                             []mustertype.Reason
	NeedsDecision                       bool
}

// boxRow is a finding drawn over the design.
type boxRow struct {
	N          int
	X, Y, W, H int
	LabelY     int
	Label      string
}

type findingRow struct {
	N        int
	F        mustertype.Finding
	HasBox   bool
	Relied   bool
	Category string
	// Reference is the matched bank entry's reference image URL ("" when
	// the finding names no entry or references are not served).
	Reference string
	// Correctable findings offer "not this mark"; Corrected is the
	// correction already made for the design's bytes (bank, OCR findings)
	// or the listing field's text (listing findings).
	Correctable bool
	Corrected   *review.Correction
}

// tileRow is an NSFW tile that scored, drawn over the design.
type tileRow struct {
	X, Y, W, H int
	Score      float64
}

type itemData struct {
	C          review.ItemContext
	Mine       bool
	LeaseUntil string
	Markets    []marketRow
	Boxes      []boxRow
	Tiles      []tileRow
	Findings   []findingRow
	Sensitive  bool
	Reasons    []review.ReasonCode
	Queues     []review.QueueStats
	HeartbeatS int
	Appeal     bool
	Statement  string
	Tags       string
	// Others is the merchant's track record: their other recent designs
	// with the latest outcome of each, and Record the counts.
	Others []otherRow
	Record record
}

// otherRow is one of the merchant's other designs with its latest verdict.
type otherRow struct {
	D store.Design
	V *store.Verdict
}

// record counts the outcomes of the merchant's other recent designs.
type record struct {
	Designs, Blocked, Allowed, InReview, ByReviewer int
}

func (s *Server) itemPage(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	id, err := itemID(r)
	if err != nil {
		return err
	}
	rv := reviewer(sess)
	c, err := s.deps.Review.Context(r.Context(), rv, id)
	if err != nil {
		return reviewError(err)
	}
	if err := s.logView(r.Context(), sess, c.Design, review.ViewItem, id); err != nil {
		return err
	}
	qs, err := s.deps.Review.Queues(r.Context(), rv)
	if err != nil {
		return reviewError(err)
	}
	d := itemData{C: c, Reasons: review.Reasons(), HeartbeatS: int(s.cfg.HeartbeatEvery.Seconds()), Appeal: c.Item.Kind == review.KindAppeal,
		Tags: strings.Join(c.Design.Tags, ", ")}
	for _, q := range qs {
		if q.Name != c.Item.Queue {
			d.Queues = append(d.Queues, q)
		}
	}
	now := time.Now()
	d.Mine = c.Item.State == review.StateOpen && c.Item.ClaimedBy == rv.ID && c.Item.Leased(now)
	if c.Item.LeaseUntil != nil {
		d.LeaseUntil = c.Item.LeaseUntil.UTC().Format("15:04:05 UTC")
	}
	// Markets: the item's automated outcomes, with the reasons of the
	// verdict under review, and the latest verdict's outcome.
	markets := make([]string, 0, len(c.Item.Automated))
	for m := range c.Item.Automated {
		markets = append(markets, m)
	}
	slices.Sort(markets)
	for _, m := range markets {
		row := marketRow{Market: m, Automated: c.Item.Automated[m], Decided: c.Item.Decision[m]}
		row.NeedsDecision = row.Automated == mustertype.Review
		if c.Verdict != nil {
			if mv, ok := c.Verdict.Decision.Market(m); ok {
				row.Current = mv.Outcome
				row.Reasons = mv.Reasons
				if d.Statement == "" && len(mv.StatementOfReasons) > 0 {
					var pretty map[string]any
					if json.Unmarshal(mv.StatementOfReasons, &pretty) == nil {
						b, _ := json.MarshalIndent(pretty, "", "  ")
						d.Statement = string(b)
					}
				}
			}
		}
		d.Markets = append(d.Markets, row)
	}
	// Findings: every finding of the design, boxes drawn over the image,
	// the ones the rules relied on marked.
	relied := map[string]bool{}
	for _, f := range c.Item.Findings {
		relied[findingKey(f)] = true
	}
	for i, f := range c.Findings {
		fr := findingRow{N: i + 1, F: f, HasBox: f.Box != nil && f.Box.W > 0 && f.Box.H > 0, Relied: relied[findingKey(f)], Category: f.Attrs.Category,
			Correctable: review.Correctable(f)}
		for j := range c.Corrections {
			if fr.Correctable && c.Corrections[j].Of(f) {
				fr.Corrected = &c.Corrections[j]
			}
		}
		if s.deps.References != nil && f.Bank != "" && f.EntryID != "" {
			if b, err := s.deps.References.Reference(r.Context(), f.Bank, f.EntryID); err == nil && len(b) > 0 {
				fr.Reference = "/console/banks/" + url.PathEscape(f.Bank) + "/entries/" + url.PathEscape(f.EntryID) + "/reference"
			}
		}
		d.Findings = append(d.Findings, fr)
		if f.Type == mustertype.FindingNSFW && f.Score >= 0.5 {
			d.Sensitive = true
		}
		if f.Box != nil && f.Box.W > 0 && f.Box.H > 0 {
			label := fmt.Sprintf("%d %s", i+1, findingLabel(f))
			ly := f.Box.Y - 4
			if ly < 14 {
				ly = f.Box.Y + 16
			}
			d.Boxes = append(d.Boxes, boxRow{N: i + 1, X: f.Box.X, Y: f.Box.Y, W: f.Box.W, H: f.Box.H, LabelY: ly, Label: label})
		}
	}
	for i, o := range c.Others {
		row := otherRow{D: o}
		if i < len(c.OtherVerdicts) {
			row.V = c.OtherVerdicts[i]
		}
		d.Record.Designs++
		if row.V != nil {
			switch row.V.Outcome {
			case mustertype.Block:
				d.Record.Blocked++
			case mustertype.Allow:
				d.Record.Allowed++
			case mustertype.Review:
				d.Record.InReview++
			}
			if row.V.Cause == mustertype.CauseReview {
				d.Record.ByReviewer++
			}
		}
		d.Others = append(d.Others, row)
	}
	d.Tiles = s.nsfwTiles(r.Context(), c.Design.ID)
	if len(d.Tiles) > 0 {
		d.Sensitive = true
	}
	for _, code := range c.Item.Codes {
		if strings.Contains(code, "sexual") || strings.Contains(code, "nsfw") {
			d.Sensitive = true
		}
	}
	s.render(w, r, http.StatusOK, "item", s.page(r, sess, fmt.Sprintf("Item %d", c.Item.ID), "review", d))
	return nil
}

// nsfwTiles are the NSFW analyzer's tiles whose sexual score (porn +
// hentai + sexy) reached 0.5, read from the stored analysis.
func (s *Server) nsfwTiles(ctx context.Context, designID string) []tileRow {
	as, err := s.deps.Store.Analyses(ctx, designID)
	if err != nil {
		s.cfg.Logger.Warn("console: analyses", "design", designID, "err", err)
		return nil
	}
	var out []tileRow
	for _, a := range as {
		if a.Analyzer != mustertype.AnalyzerNSFW {
			continue
		}
		var res mustertype.NSFWResult
		if err := json.Unmarshal(a.Result, &res); err != nil {
			continue
		}
		for _, t := range res.Tiles {
			p := t.Probabilities
			if sc := p.Porn + p.Hentai + p.Sexy; sc >= 0.5 && t.Box.W > 0 && t.Box.H > 0 {
				out = append(out, tileRow{X: t.Box.X, Y: t.Box.Y, W: t.Box.W, H: t.Box.H, Score: sc})
			}
		}
	}
	return out
}

// reference serves a bank entry's reference image. Banks are the
// platform's: every reviewer may see what a finding matched.
func (s *Server) reference(w http.ResponseWriter, r *http.Request, _ *accounts.Session) error {
	if s.deps.References == nil {
		return errorf(http.StatusNotFound, "No reference images here.")
	}
	b, err := s.deps.References.Reference(r.Context(), r.PathValue("bank"), r.PathValue("entry"))
	if err != nil || len(b) == 0 {
		return errorf(http.StatusNotFound, "No such bank entry.")
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "private, max-age=300")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
	_, _ = w.Write(b)
	return nil
}

func findingKey(f mustertype.Finding) string {
	k := f.Type + "|" + f.Bank + "|" + f.EntryID + "|" + f.Label
	if f.Box != nil {
		k += fmt.Sprintf("|%d,%d,%d,%d", f.Box.X, f.Box.Y, f.Box.W, f.Box.H)
	}
	return k
}

func findingLabel(f mustertype.Finding) string {
	switch {
	case f.Label != "":
		return f.Label
	case f.Attrs.Owner != "":
		return f.Attrs.Owner
	case f.Attrs.Symbol != "":
		return f.Attrs.Symbol
	}
	return f.Type
}

// heartbeat renews the lease; the answer is the lease line htmx swaps in.
func (s *Server) heartbeat(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	id, err := itemID(r)
	if err != nil {
		return err
	}
	it, err := s.deps.Review.Heartbeat(r.Context(), reviewer(sess), id)
	if err != nil {
		return reviewError(err)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if it.LeaseUntil != nil {
		fmt.Fprintf(w, "Your lease runs until %s; it is renewed while this page is open.", it.LeaseUntil.UTC().Format("15:04:05 UTC"))
	}
	return nil
}

// decide records the per-market decision, then opens the next item of
// the same queue when asked (submit & next).
func (s *Server) decide(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	id, err := itemID(r)
	if err != nil {
		return err
	}
	rv := reviewer(sess)
	it, err := s.deps.Review.Context(r.Context(), rv, id)
	if err != nil {
		return reviewError(err)
	}
	d := review.Decision{Markets: map[string]string{}, Reason: r.PostFormValue("reason"), Note: strings.TrimSpace(r.PostFormValue("note")),
		Appeal: r.PostFormValue("appeal")}
	for m := range it.Item.Automated {
		switch v := r.PostFormValue("m_" + m); v {
		case mustertype.Allow, mustertype.Block:
			d.Markets[m] = v
		case "", "keep":
		default:
			return errorf(http.StatusBadRequest, "Market %s: choose allow or block.", m)
		}
	}
	if d.Reason == "" {
		return errorf(http.StatusBadRequest, "Choose a reason code.")
	}
	if _, err := s.deps.Review.Decide(r.Context(), rv, id, d); err != nil {
		return reviewError(err)
	}
	if r.PostFormValue("next") != "" {
		return s.claimAndOpen(w, r, sess, it.Item.Queue)
	}
	redirect(w, r, fmt.Sprintf("/console/review/items/%d", id))
	return nil
}

func (s *Server) skip(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	id, err := itemID(r)
	if err != nil {
		return err
	}
	it, err := s.deps.Review.Release(r.Context(), reviewer(sess), id, strings.TrimSpace(r.PostFormValue("comment")))
	if err != nil {
		return reviewError(err)
	}
	return s.claimAndOpen(w, r, sess, it.Queue)
}

func (s *Server) escalate(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	id, err := itemID(r)
	if err != nil {
		return err
	}
	comment := strings.TrimSpace(r.PostFormValue("comment"))
	if comment == "" {
		return errorf(http.StatusBadRequest, "Say why you escalate: the comment is required.")
	}
	it, err := s.deps.Review.Context(r.Context(), reviewer(sess), id)
	if err != nil {
		return reviewError(err)
	}
	if _, err := s.deps.Review.Escalate(r.Context(), reviewer(sess), id, r.PostFormValue("queue"), comment); err != nil {
		return reviewError(err)
	}
	return s.claimAndOpen(w, r, sess, it.Item.Queue)
}

func (s *Server) comment(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	id, err := itemID(r)
	if err != nil {
		return err
	}
	body := strings.TrimSpace(r.PostFormValue("body"))
	if body == "" {
		return errorf(http.StatusBadRequest, "The comment is empty.")
	}
	if _, err := s.deps.Review.AddComment(r.Context(), reviewer(sess), id, body); err != nil {
		return reviewError(err)
	}
	redirect(w, r, fmt.Sprintf("/console/review/items/%d#comments", id))
	return nil
}

func (s *Server) markWrong(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	id, err := itemID(r)
	if err != nil {
		return err
	}
	t := review.Target{Bank: r.PostFormValue("bank"), EntryID: r.PostFormValue("entry"), Analyzer: r.PostFormValue("analyzer"), Field: r.PostFormValue("field")}
	if _, err := s.deps.Review.MarkWrong(r.Context(), reviewer(sess), id, t, strings.TrimSpace(r.PostFormValue("note"))); err != nil {
		return reviewError(err)
	}
	redirect(w, r, fmt.Sprintf("/console/review/items/%d#findings-title", id))
	return nil
}

func (s *Server) withdrawCorrection(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return errorf(http.StatusNotFound, "No such correction.")
	}
	c, err := s.deps.Review.WithdrawCorrection(r.Context(), reviewer(sess), id, strings.TrimSpace(r.PostFormValue("note")))
	if err != nil {
		return reviewError(err)
	}
	redirect(w, r, fmt.Sprintf("/console/review/items/%d#findings-title", c.ItemID))
	return nil
}

type auditData struct {
	Entries                     []review.AuditEntry
	Actor, Action, Design, Item string
	Since, Until                string
	NextBefore                  int64
	CSV                         string
	Actions                     []string
}

func parseAuditFilter(q url.Values) (review.AuditFilter, error) {
	f := review.AuditFilter{Actor: strings.TrimSpace(q.Get("actor")), Action: q.Get("action"), DesignID: strings.TrimSpace(q.Get("design")), Limit: 200}
	if v := q.Get("item"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return f, errorf(http.StatusBadRequest, "Item must be a number.")
		}
		f.ItemID = n
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse("2006-01-02", v)
			if err != nil {
				return f, errorf(http.StatusBadRequest, "Dates are YYYY-MM-DD.")
			}
			*p.dst = t
			if p.name == "until" {
				*p.dst = t.Add(24 * time.Hour)
			}
		}
	}
	if v, err := strconv.ParseInt(q.Get("before"), 10, 64); err == nil {
		f.BeforeID = v
	}
	return f, nil
}

// auditPage lists review actions; ?format=csv exports the filtered rows
// (up to 10,000) as CSV.
func (s *Server) auditPage(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	q := r.URL.Query()
	f, err := parseAuditFilter(q)
	if err != nil {
		return err
	}
	rv := reviewer(sess)
	if f.DesignID != "" {
		// drilled down to one design: a view of it
		if d, err := s.designFor(r, sess, f.DesignID); err == nil {
			if err := s.logView(r.Context(), sess, d, review.ViewAudit, 0); err != nil {
				return err
			}
		}
	}
	if q.Get("format") == "csv" {
		f.Limit = 10000
		entries, err := s.deps.Review.Audit(r.Context(), rv, f)
		if err != nil {
			return reviewError(err)
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="muster-review-audit.csv"`)
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"id", "at", "actor", "action", "tenant_id", "design_id", "item_id", "data", "hash"})
		for _, e := range entries {
			_ = cw.Write([]string{strconv.FormatInt(e.ID, 10), e.At.UTC().Format(time.RFC3339Nano), csvSafe(e.Actor), e.Action, e.TenantID, e.DesignID,
				strconv.FormatInt(e.ItemID, 10), csvSafe(string(e.Data)), e.Hash})
		}
		cw.Flush()
		return cw.Error()
	}
	entries, err := s.deps.Review.Audit(r.Context(), rv, f)
	if err != nil {
		return reviewError(err)
	}
	d := auditData{Entries: entries, Actor: f.Actor, Action: f.Action, Design: f.DesignID, Since: q.Get("since"), Until: q.Get("until"),
		Actions: []string{review.ActionOpened, review.ActionClaimed, review.ActionReleased, review.ActionEscalated, review.ActionCommented,
			review.ActionDecided, review.ActionClosed, review.ActionPriority, review.ActionAppealed, review.ActionFindingWrong, review.ActionQueueSaved, review.ActionRoutesSet,
			review.ActionDesignViewed}}
	if f.ItemID != 0 {
		d.Item = strconv.FormatInt(f.ItemID, 10)
	}
	if len(entries) == f.Limit {
		d.NextBefore = entries[len(entries)-1].ID
	}
	cq := url.Values{}
	for k, v := range q {
		if k != "before" && k != "format" {
			cq[k] = v
		}
	}
	cq.Set("format", "csv")
	d.CSV = "/console/review/audit?" + cq.Encode()
	s.render(w, r, http.StatusOK, "audit", s.page(r, sess, "Review audit", "review", d))
	return nil
}

// csvSafe defuses spreadsheet formulas in free text (CSV injection).
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func (s *Server) qaPage(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	rep, err := s.deps.Review.QAReport(r.Context(), reviewer(sess))
	if err != nil {
		return reviewError(err)
	}
	s.render(w, r, http.StatusOK, "qa", s.page(r, sess, "QA agreement", "review", rep))
	return nil
}

// statsData is the reviewer statistics page.
type statsData struct {
	Days      int
	Choices   []int
	Reviewers []review.ReviewerStats
	Me        string
}

func (s *Server) statsPage(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	days := 7
	if n, err := strconv.Atoi(r.URL.Query().Get("days")); err == nil && n >= 1 && n <= 90 {
		days = n
	}
	st, err := s.deps.Review.Stats(r.Context(), reviewer(sess), time.Now().AddDate(0, 0, -days))
	if err != nil {
		return reviewError(err)
	}
	s.render(w, r, http.StatusOK, "stats", s.page(r, sess, "Reviewer statistics", "review", statsData{Days: days, Choices: []int{1, 7, 30, 90}, Reviewers: st, Me: reviewer(sess).ID}))
	return nil
}

// bulk decides the items selected on the items page with one outcome for
// every market and one reason (required), each item in its own
// transaction and audited (review.Service.Bulk), and shows the list again
// with what was decided and what was not, and why.
func (s *Server) bulk(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	if err := r.ParseForm(); err != nil {
		return errorf(http.StatusBadRequest, "Unreadable form.")
	}
	var ids []int64
	for _, v := range r.PostForm["id"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return errorf(http.StatusBadRequest, "Not an item id: %q.", v)
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return errorf(http.StatusBadRequest, "Select the items to decide.")
	}
	every := r.PostFormValue("every")
	if every != mustertype.Allow && every != mustertype.Block {
		return errorf(http.StatusBadRequest, "Choose allow or block.")
	}
	res, err := s.deps.Review.Bulk(r.Context(), reviewer(sess), ids, review.Decision{Every: every, Reason: r.PostFormValue("reason"), Note: strings.TrimSpace(r.PostFormValue("note"))})
	if err != nil {
		return reviewError(err)
	}
	out := &bulkOutcome{}
	for _, b := range res {
		if b.OK {
			out.Decided++
		} else {
			out.Failed = append(out.Failed, b)
		}
	}
	rv := reviewer(sess)
	f := review.ItemFilter{Queue: r.PostFormValue("queue"), State: review.StateOpen, Kind: r.PostFormValue("kind"), Limit: 50}
	d, err := s.itemsData(r.Context(), rv, f)
	if err != nil {
		return err
	}
	d.Bulk = out
	s.render(w, r, http.StatusOK, "items", s.page(r, sess, "Review items", "review", d))
	return nil
}
