package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/muster-dev/muster/accounts"
	"github.com/muster-dev/muster/mustertype"
	"github.com/muster-dev/muster/policy"
	"github.com/muster-dev/muster/review"
	"github.com/muster-dev/muster/store"
)

// ---- backtests ----

type backtestsData struct {
	legalPage
	Backtests []policy.Backtest
	Draft     policy.Draft
}

func (s *Server) legalBacktests(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	bs, err := s.deps.Legal.Policy.Backtests(r.Context(), 50)
	if err != nil {
		return err
	}
	d, err := s.deps.Legal.Policy.Draft(r.Context())
	if err != nil {
		return policyErr(err)
	}
	s.render(w, r, http.StatusOK, "legal_backtests", s.page(r, sess, "Backtests", "legal",
		backtestsData{legalPage: s.legalNav(r, sess, "/console/legal/backtests"), Backtests: bs, Draft: d}))
	return nil
}

func (s *Server) legalBacktestStart(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	days := legalFormInt(r, "days", 30)
	maxDesigns := legalFormInt(r, "max_designs", 0)
	if days < 1 || days > 365 {
		return errorf(http.StatusBadRequest, "The window must be 1 to 365 days.")
	}
	if maxDesigns < 0 || maxDesigns > policy.DefaultBacktestMaxDesigns {
		return errorf(http.StatusBadRequest, "At most %d designs.", policy.DefaultBacktestMaxDesigns)
	}
	id, err := s.deps.Legal.Policy.QueueBacktest(r.Context(), legalActor(sess), policy.BacktestRequest{Days: days, MaxDesigns: maxDesigns})
	if err != nil {
		return policyErr(err)
	}
	if k := s.deps.Legal.KickBacktests; k != nil {
		k()
	}
	redirect(w, r, fmt.Sprintf("/console/legal/backtests/%d", id))
	return nil
}

// marketResult is one market's row of a backtest result.
type marketResult struct {
	Market  string
	Live    map[string]int
	Draft   map[string]int
	Changes []changeGroup
	Total   int
}

type changeGroup struct {
	From, To string
	Count    int
	Designs  []string
}

type backtestData struct {
	legalPage
	Backtest policy.Backtest
	Markets  []marketResult
	Running  bool
	Stale    bool
}

func backtestMarkets(res *policy.BacktestResult) []marketResult {
	if res == nil {
		return nil
	}
	var out []marketResult
	keys := make([]string, 0, len(res.Markets))
	for k := range res.Markets {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, m := range keys {
		mc := res.Markets[m]
		mr := marketResult{Market: m, Live: mc.Live, Draft: mc.Draft}
		ck := make([]string, 0, len(mc.Changes))
		for k := range mc.Changes {
			ck = append(ck, k)
		}
		slices.Sort(ck)
		for _, k := range ck {
			from, to := policy.ChangeKey(k)
			mr.Changes = append(mr.Changes, changeGroup{From: from, To: to, Count: mc.Changes[k], Designs: mc.Samples[k]})
			mr.Total += mc.Changes[k]
		}
		out = append(out, mr)
	}
	// Markets with changes first.
	slices.SortStableFunc(out, func(a, b marketResult) int { return b.Total - a.Total })
	return out
}

func (s *Server) backtestData(r *http.Request, sess *accounts.Session) (backtestData, error) {
	id, err := legalPathID(r, "id")
	if err != nil {
		return backtestData{}, err
	}
	b, err := s.deps.Legal.Policy.Backtest(r.Context(), id)
	if err != nil {
		return backtestData{}, policyErr(err)
	}
	d := backtestData{Backtest: b, Markets: backtestMarkets(b.Result),
		Running: b.Status == policy.BacktestQueued || b.Status == policy.BacktestRunning}
	d.Stale = b.Status == policy.BacktestRunning && b.LeaseUntil != nil && b.LeaseUntil.Before(time.Now())
	return d, nil
}

func (s *Server) legalBacktest(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	d, err := s.backtestData(r, sess)
	if err != nil {
		return err
	}
	d.legalPage = s.legalNav(r, sess, "/console/legal/backtests")
	s.render(w, r, http.StatusOK, "legal_backtest", s.page(r, sess, fmt.Sprintf("Backtest %d", d.Backtest.ID), "legal", d))
	return nil
}

// legalBacktestProgress is polled by the progress bar; when the job ends
// the page reloads to show the result.
func (s *Server) legalBacktestProgress(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	d, err := s.backtestData(r, sess)
	if err != nil {
		return err
	}
	if !d.Running {
		w.Header().Set("HX-Refresh", "true")
	}
	return s.legalFragment(w, "legal_backtest", "progress", d)
}

func (s *Server) legalBacktestCancel(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	id, err := legalPathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.deps.Legal.Policy.CancelBacktest(r.Context(), legalActor(sess), id); err != nil {
		return policyErr(err)
	}
	redirect(w, r, fmt.Sprintf("/console/legal/backtests/%d?saved=cancelled", id))
	return nil
}

// ---- shadow ----

type shadowData struct {
	legalPage
	Shadow        *policy.Version
	Since         time.Time
	Total         int
	Disagreements []store.ShadowDisagreement
}

func (s *Server) legalShadow(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	lp := s.legalNav(r, sess, "/console/legal/shadow")
	data := shadowData{legalPage: lp}
	if lp.State != nil && lp.State.Shadow != nil {
		v, err := s.deps.Legal.Policy.Version(r.Context(), *lp.State.Shadow)
		if err != nil {
			return policyErr(err)
		}
		data.Shadow, data.Since = &v, v.CreatedAt
		data.Total, data.Disagreements, err = s.deps.Store.ShadowReport(r.Context(), v.Name(), v.CreatedAt, 200)
		if err != nil {
			return err
		}
	}
	s.render(w, r, http.StatusOK, "legal_shadow", s.page(r, sess, "Shadow", "legal", data))
	return nil
}

func (s *Server) legalShadowSet(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	if r.PostFormValue("action") == "off" {
		if err := s.deps.Legal.Policy.ClearShadow(r.Context(), legalActor(sess)); err != nil {
			return policyErr(err)
		}
		redirect(w, r, "/console/legal/shadow?saved=unshadow")
		return nil
	}
	if _, err := s.deps.Legal.Policy.SetShadow(r.Context(), legalActor(sess), r.PostFormValue("note")); err != nil {
		return policyErr(err)
	}
	redirect(w, r, "/console/legal/shadow?saved=shadow")
	return nil
}

// ---- publish, approvals, versions, rollback, audit ----

type publishData struct {
	legalPage
	Draft     policy.Draft
	Diff      policy.DocDiff
	Backtest  *policy.Backtest
	Approval  *policy.Approval
	Approvals []policy.Approval
	CanPub    bool
	Mine      bool
}

func (s *Server) legalPublishPage(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	d, err := s.deps.Legal.Policy.Draft(r.Context())
	if err != nil {
		return policyErr(err)
	}
	dd, err := s.docDiff(r.Context(), "live", "draft")
	if err != nil {
		return err
	}
	data := publishData{legalPage: s.legalNav(r, sess, "/console/legal/publish"), Draft: d, Diff: dd.Diff, CanPub: sess.User.Role == accounts.RoleLegal}
	bs, err := s.deps.Legal.Policy.Backtests(r.Context(), 50)
	if err != nil {
		return err
	}
	for i := range bs {
		if bs[i].DraftRevision != nil && *bs[i].DraftRevision == d.Revision && bs[i].Status == policy.BacktestDone {
			data.Backtest = &bs[i]
			break
		}
	}
	if ap, err := s.deps.Legal.Policy.PendingApproval(r.Context()); err == nil {
		data.Approval = &ap
		data.Mine = ap.RequestedBy == legalActor(sess).Name
	}
	if data.Approvals, err = s.deps.Legal.Policy.Approvals(r.Context(), 20); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "legal_publish", s.page(r, sess, "Publish", "legal", data))
	return nil
}

func (s *Server) legalPublish(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	note := strings.TrimSpace(r.PostFormValue("note"))
	if note == "" {
		return errorf(http.StatusBadRequest, "A publication needs a note saying what changes and why.")
	}
	rev, _ := strconv.ParseInt(r.PostFormValue("revision"), 10, 64)
	req := policy.PublishRequest{Note: note, DraftRevision: rev}
	if r.PostFormValue("second_approver") == "on" {
		if _, err := s.deps.Legal.Policy.RequestPublish(r.Context(), legalActor(sess), req); err != nil {
			return policyErr(err)
		}
		redirect(w, r, "/console/legal/publish?saved=requested")
		return nil
	}
	if _, err := s.deps.Legal.Policy.Publish(r.Context(), legalActor(sess), req); err != nil {
		return policyErr(err)
	}
	redirect(w, r, "/console/legal/versions?saved=published")
	return nil
}

func (s *Server) legalApprove(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	id, err := legalPathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := s.deps.Legal.Policy.ApprovePublish(r.Context(), legalActor(sess), id, strings.TrimSpace(r.PostFormValue("note"))); err != nil {
		return policyErr(err)
	}
	redirect(w, r, "/console/legal/versions?saved=approved")
	return nil
}

func (s *Server) legalReject(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	id, err := legalPathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.deps.Legal.Policy.RejectPublish(r.Context(), legalActor(sess), id, strings.TrimSpace(r.PostFormValue("note"))); err != nil {
		if errors.Is(err, policy.ErrConflict) || errors.Is(err, policy.ErrNotFound) || errors.Is(err, policy.ErrForbidden) {
			return policyErr(err)
		}
		return errorf(http.StatusBadRequest, "%v", err)
	}
	redirect(w, r, "/console/legal/publish?saved=rejected")
	return nil
}

type versionsData struct {
	legalPage
	Versions []policy.Version
	CanRoll  bool
	Live     int
}

func (s *Server) legalVersions(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	vs, err := s.deps.Legal.Policy.History(r.Context(), 200)
	if err != nil {
		return err
	}
	data := versionsData{legalPage: s.legalNav(r, sess, "/console/legal/versions"), Versions: vs, CanRoll: sess.User.Role == accounts.RoleLegal}
	if data.State != nil && data.State.Live != nil {
		data.Live = *data.State.Live
	}
	s.render(w, r, http.StatusOK, "legal_versions", s.page(r, sess, "Versions", "legal", data))
	return nil
}

type versionData struct {
	legalPage
	Version policy.Version
	Diff    diffData
	HasPrev bool
}

func (s *Server) legalVersion(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	n, err := legalPathID(r, "n")
	if err != nil {
		return err
	}
	v, err := s.deps.Legal.Policy.Version(r.Context(), int(n))
	if err != nil {
		return policyErr(err)
	}
	data := versionData{legalPage: s.legalNav(r, sess, "/console/legal/versions"), Version: v}
	if n > 1 {
		if data.Diff, err = s.docDiff(r.Context(), strconv.FormatInt(n-1, 10), strconv.FormatInt(n, 10)); err != nil {
			return err
		}
		data.HasPrev = true
	}
	s.render(w, r, http.StatusOK, "legal_version", s.page(r, sess, v.Name(), "legal", data))
	return nil
}

func (s *Server) legalRollback(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	to := legalFormInt(r, "to", 0)
	if _, err := s.deps.Legal.Policy.Rollback(r.Context(), legalActor(sess), to, legalFormInt(r, "expect_live", 0), strings.TrimSpace(r.PostFormValue("note"))); err != nil {
		if errors.Is(err, policy.ErrConflict) || errors.Is(err, policy.ErrNotFound) || errors.Is(err, policy.ErrForbidden) {
			return policyErr(err)
		}
		return errorf(http.StatusBadRequest, "%v", err)
	}
	redirect(w, r, "/console/legal/versions?saved=rollback")
	return nil
}

type legalAuditRow struct {
	policy.AuditEntry
	Why  string
	Data string
}

type legalAuditData struct {
	legalPage
	Rows []legalAuditRow
}

func (s *Server) legalAudit(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	es, err := s.deps.Legal.Policy.Audit(r.Context(), 500)
	if err != nil {
		return err
	}
	rows := make([]legalAuditRow, len(es))
	for i, e := range es {
		var m map[string]any
		_ = json.Unmarshal(e.Data, &m)
		why, _ := m["note"].(string)
		rows[i] = legalAuditRow{AuditEntry: e, Why: why, Data: string(e.Data)}
	}
	s.render(w, r, http.StatusOK, "legal_audit", s.page(r, sess, "Policy audit log", "legal",
		legalAuditData{legalPage: s.legalNav(r, sess, "/console/legal/audit"), Rows: rows}))
	return nil
}

// ---- statement of reasons ----

type sorData struct {
	legalPage
	Which, Market, Design, Probe string
	Probes                       []string
	Outcome                      string
	Statement                    string
	Message                      string
}

// legalSoR previews the statement of reasons a block in an EU market
// carries, under the draft or live, for a stored design or a probe.
func (s *Server) legalSoR(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	q := r.URL.Query()
	data := sorData{legalPage: s.legalNav(r, sess, "/console/legal/sor"), Which: q.Get("which"), Market: strings.ToUpper(q.Get("market")),
		Design: q.Get("design"), Probe: q.Get("probe")}
	if data.Which != "live" {
		data.Which = "draft"
	}
	if data.Market == "" {
		data.Market = "DE"
	}
	if data.Design == "" && data.Probe == "" {
		data.Probe = "hakenkreuz"
	}
	for _, p := range legalProbes() {
		data.Probes = append(data.Probes, p.Key)
	}
	in, _, err := s.previewInput(r.Context(), data.Design, data.Probe, []string{data.Market})
	if err != nil {
		return err
	}
	content, _, err := policy.Resolve(r.Context(), s.deps.Legal.Policy, data.Which)
	if err != nil {
		return policyErr(err)
	}
	dec, err := policy.Preview(r.Context(), content, in, policy.Config{})
	if err != nil {
		return policyErr(err)
	}
	mv := dec.Markets[0]
	data.Outcome = mv.Outcome
	switch {
	case len(mv.StatementOfReasons) > 0:
		var buf bytes.Buffer
		_ = json.Indent(&buf, mv.StatementOfReasons, "", "  ")
		data.Statement = buf.String()
	case mv.Outcome != policy.Block:
		data.Message = fmt.Sprintf("This is not a block in %s (%s): only a block in an EU market carries a statement of reasons.", data.Market, mv.Outcome)
	default:
		data.Message = fmt.Sprintf("%s is not an EU market: no statement of reasons under the DSA.", data.Market)
	}
	s.render(w, r, http.StatusOK, "legal_sor", s.page(r, sess, "Statement of reasons", "legal", data))
	return nil
}

type legalDesignData struct {
	legalPage
	Design   store.Design
	Findings []mustertype.Finding
	Verdict  *store.Verdict
}

func (s *Server) legalDesign(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	d, err := s.designFor(r, sess, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := s.logView(r.Context(), sess, d, review.ViewLegalDesign, 0); err != nil {
		return err
	}
	fs, err := s.deps.Store.Findings(r.Context(), d.ID)
	if err != nil {
		return err
	}
	data := legalDesignData{legalPage: s.legalNav(r, sess, ""), Design: d, Findings: fs}
	if v, err := s.deps.Store.LatestVerdict(r.Context(), d.ID); err == nil {
		data.Verdict = &v
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	s.render(w, r, http.StatusOK, "legal_design", s.page(r, sess, "Design "+d.ID, "legal", data))
	return nil
}
