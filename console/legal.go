package console

import (
	"bytes"
	"context"
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
	"github.com/muster-dev/muster/bank"
	"github.com/muster-dev/muster/bank/match"
	"github.com/muster-dev/muster/internal/catalog"
	"github.com/muster-dev/muster/mustertype"
	"github.com/muster-dev/muster/policy"
	"github.com/muster-dev/muster/store"
)

// Legal is what legal's workspace acts through: the platform policy, the
// banks, and the composition root's re-decision after a licence change.
type Legal struct {
	Policy *policy.Store
	Banks  *bank.Store
	// Match prepares uploaded reference images (zero: the defaults).
	Match match.Config
	// LicenceChanged re-decides a tenant's designs with a finding of the
	// entry after its licence was granted or revoked (the composition
	// root's Pipeline.licenceChanged, the same bank/bankhttp calls); nil:
	// nothing is re-decided.
	LicenceChanged func(ctx context.Context, actor, tenantID, bankName, entryID string) error
	// KickBacktests wakes this process's backtest runner (nil: it polls).
	KickBacktests func()
}

var (
	// legalRoles open the legal section; the platform policy and the banks
	// are further limited to the platform's users (Route.Platform).
	legalRoles = []string{accounts.RoleLegal, accounts.RoleAdmin}
	// publishRoles may publish, approve and roll back: legal only.
	publishRoles = []string{accounts.RoleLegal}
	legalSection = Section{Key: "legal", Title: "Legal", Path: "/console/legal",
		Summary: "Where each market stands, the draft rules with backtests and publishing, banks and licences.", Roles: legalRoles}
)

func (s *Server) legalRoutes() []Route {
	plat := func(method, pattern string, roles []string, summary string, h Handler) Route {
		s.platform[method+" "+pattern] = true
		return Route{Method: method, Pattern: pattern, Roles: roles, Summary: summary, Handler: h}
	}
	return []Route{
		{"GET", "/console/legal", legalRoles, "Legal: the market matrix (platform) or the tenant's licences", s.legalHome},
		plat("GET", "/console/legal/rules", legalRoles, "The draft's rules and parameters with the live and shadow versions", s.legalRules),
		plat("GET", "/console/legal/rules/new", legalRoles, "A new rule (optionally a copy of one)", s.legalRuleNew),
		plat("GET", "/console/legal/rules/{name}", legalRoles, "Edit a rule of the draft", s.legalRule),
		plat("POST", "/console/legal/rules/validate", legalRoles, "Type-check a rule as it is typed (htmx)", s.legalRuleValidate),
		plat("POST", "/console/legal/rules/preview", legalRoles, "Preview the edited rule on a stored design or a probe (htmx)", s.legalRulePreview),
		plat("POST", "/console/legal/rules/save", legalRoles, "Save a rule into the draft", s.legalRuleSave),
		plat("POST", "/console/legal/rules/{name}/delete", legalRoles, "Remove a rule from the draft", s.legalRuleDelete),
		plat("GET", "/console/legal/params", legalRoles, "The draft's parameters", s.legalParams),
		plat("POST", "/console/legal/params/validate", legalRoles, "Type-check the parameters as they are typed (htmx)", s.legalParamsValidate),
		plat("POST", "/console/legal/params", legalRoles, "Save the draft's parameters", s.legalParamsSave),
		plat("GET", "/console/legal/diff", legalRoles, "Diff of two versions (default: the draft against live)", s.legalDiff),
		plat("GET", "/console/legal/backtests", legalRoles, "Backtests: start one, list them", s.legalBacktests),
		plat("POST", "/console/legal/backtests", legalRoles, "Queue a backtest of the draft (durable job)", s.legalBacktestStart),
		plat("GET", "/console/legal/backtests/{id}", legalRoles, "A backtest's progress and result", s.legalBacktest),
		plat("GET", "/console/legal/backtests/{id}/progress", legalRoles, "A backtest's progress bar (htmx polling)", s.legalBacktestProgress),
		plat("POST", "/console/legal/backtests/{id}/cancel", legalRoles, "Cancel a backtest", s.legalBacktestCancel),
		plat("GET", "/console/legal/shadow", legalRoles, "Shadow policy and its disagreements with live", s.legalShadow),
		plat("POST", "/console/legal/shadow", legalRoles, "Put the draft in shadow, or stop shadowing", s.legalShadowSet),
		plat("GET", "/console/legal/publish", legalRoles, "Publish the draft: diff, backtest, note, second approver", s.legalPublishPage),
		plat("POST", "/console/legal/publish", publishRoles, "Publish the draft, or ask a second approver", s.legalPublish),
		plat("POST", "/console/legal/approvals/{id}/approve", publishRoles, "Approve and publish a requested publication", s.legalApprove),
		plat("POST", "/console/legal/approvals/{id}/reject", publishRoles, "Reject or withdraw a requested publication", s.legalReject),
		plat("GET", "/console/legal/versions", legalRoles, "Version history with rollback", s.legalVersions),
		plat("GET", "/console/legal/versions/{n}", legalRoles, "One version's document", s.legalVersion),
		plat("POST", "/console/legal/rollback", publishRoles, "Publish an older version again", s.legalRollback),
		plat("GET", "/console/legal/audit", legalRoles, "The policy audit log: who, when, why", s.legalAudit),
		plat("GET", "/console/legal/designs/{id}", legalRoles, "A stored design: findings and verdict per market with the rules", s.legalDesign),
		plat("GET", "/console/legal/sor", legalRoles, "Statement of reasons preview for an EU block", s.legalSoR),
		plat("GET", "/console/legal/banks", legalRoles, "Banks with version, threshold and entries", s.legalBanks),
		plat("GET", "/console/legal/banks/{bank}", legalRoles, "A bank's entries with matches and overturns; add by upload", s.legalBank),
		plat("POST", "/console/legal/banks/{bank}/threshold", legalRoles, "Set a bank's match threshold", s.legalBankThreshold),
		plat("POST", "/console/legal/banks/{bank}/entries", legalRoles, "Add an entry from an uploaded reference image", s.legalEntryAdd),
		plat("GET", "/console/legal/banks/{bank}/entries/{id}", legalRoles, "One entry: metadata, matches, edit, disable", s.legalEntry),
		plat("GET", "/console/legal/banks/{bank}/entries/{id}/image", legalRoles, "An entry's reference image", s.legalEntryImage),
		plat("POST", "/console/legal/banks/{bank}/entries/{id}", legalRoles, "Edit an entry's metadata", s.legalEntryEdit),
		plat("POST", "/console/legal/banks/{bank}/entries/{id}/disable", legalRoles, "Disable an entry (optionally until a time)", s.legalEntryDisable),
		plat("POST", "/console/legal/banks/{bank}/entries/{id}/enable", legalRoles, "Enable an entry", s.legalEntryEnable),
		{"GET", "/console/legal/licences", legalRoles, "The tenant's allow-list (licences); the platform picks a tenant", s.legalLicences},
		{"POST", "/console/legal/licences", legalRoles, "Grant a licence (evidence, expiry); re-decides the tenant's designs", s.legalLicenceGrant},
		{"POST", "/console/legal/licences/revoke", legalRoles, "Revoke a licence; re-decides the tenant's designs", s.legalLicenceRevoke},
	}
}

// legalActor names the signed-in user for the policy's and banks' audit.
func legalActor(sess *accounts.Session) policy.Actor {
	return policy.Actor{Name: "user:" + sess.User.Email, Role: sess.User.Role}
}

// navLink is an entry of the legal sub-navigation.
type navLink struct {
	Path, Title string
	Current     bool
}

// legalPage is embedded in every legal page's data.
type legalPage struct {
	Nav     []navLink
	Message string
	// State is the policy pointers (platform pages).
	State *policy.State
}

func (s *Server) legalNav(r *http.Request, sess *accounts.Session, current string) legalPage {
	var links []navLink
	if sess.User.Platform {
		for _, l := range [][2]string{{"/console/legal", "Markets"}, {"/console/legal/rules", "Draft rules"}, {"/console/legal/params", "Parameters"},
			{"/console/legal/diff", "Diff"}, {"/console/legal/backtests", "Backtests"}, {"/console/legal/shadow", "Shadow"},
			{"/console/legal/publish", "Publish"}, {"/console/legal/versions", "Versions"}, {"/console/legal/audit", "Audit"},
			{"/console/legal/sor", "Statement of reasons"}, {"/console/legal/banks", "Banks"}} {
			links = append(links, navLink{Path: l[0], Title: l[1], Current: l[0] == current})
		}
	}
	links = append(links, navLink{Path: "/console/legal/licences", Title: "Licences", Current: current == "/console/legal/licences"})
	lp := legalPage{Nav: links, Message: savedMessage(r.URL.Query().Get("saved"))}
	if sess.User.Platform {
		if st, err := s.deps.Legal.Policy.State(r.Context()); err == nil {
			lp.State = &st
		}
	}
	return lp
}

func savedMessage(k string) string {
	return map[string]string{
		"rule": "Rule saved in the draft.", "deleted": "Rule removed from the draft.", "params": "Parameters saved in the draft.",
		"published": "Published: the new version is live.", "requested": "Publication requested: another legal user must approve it.",
		"approved": "Approved and published.", "rejected": "The request was closed.", "rollback": "Rolled back: the older content is live as a new version.",
		"shadow": "The draft is now the shadow policy.", "unshadow": "Shadowing stopped.", "entry": "Entry saved; running workers match it within seconds.",
		"disabled": "Entry disabled.", "enabled": "Entry enabled.", "threshold": "Threshold saved.", "licence": "Licence granted; the tenant's affected designs were re-decided.",
		"revoked": "Licence revoked; the tenant's affected designs were re-decided.", "cancelled": "Backtest cancelled.",
	}[k]
}

// policyErr maps the policy package's errors to what the user sees.
func policyErr(err error) error {
	var ce *policy.CompileError
	switch {
	case errors.As(err, &ce):
		return errorf(http.StatusUnprocessableEntity, "The policy does not compile: %v", err)
	case errors.Is(err, policy.ErrForbidden):
		return errorf(http.StatusForbidden, "%v", err)
	case errors.Is(err, policy.ErrConflict):
		return errorf(http.StatusConflict, "%v", err)
	case errors.Is(err, policy.ErrNotFound):
		return errorf(http.StatusNotFound, "%v", err)
	}
	return err
}

// compileErrors flattens a policy error into its *CompileError parts.
func compileErrors(err error) []*policy.CompileError {
	var out []*policy.CompileError
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		var ce *policy.CompileError
		if errors.As(e, &ce) {
			out = append(out, ce)
		} else if e != nil {
			out = append(out, &policy.CompileError{Msg: e.Error()})
		}
	}
	walk(err)
	return out
}

// ---- market matrix ----

type matrixData struct {
	legalPage
	Which      string
	Matrix     policy.Matrix
	Categories []policy.Category
}

func (s *Server) legalHome(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	if !sess.User.Platform {
		http.Redirect(w, r, "/console/legal/licences", http.StatusSeeOther)
		return nil
	}
	which := r.URL.Query().Get("which")
	var c *policy.Compiled
	var err error
	switch which {
	case "draft":
		var d policy.Draft
		if d, err = s.deps.Legal.Policy.Draft(r.Context()); err == nil {
			var doc *policy.Document
			if doc, err = policy.ParseDocument(d.Content); err == nil {
				c, err = policy.Compile(doc, fmt.Sprintf("draft revision %d", d.Revision), policy.Config{})
			}
		}
	default:
		which = "live"
		c, err = s.deps.Legal.Policy.LiveCompiled(r.Context())
	}
	if err != nil {
		return policyErr(err)
	}
	mx, err := c.Matrix(r.Context(), nil)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "legal_matrix", s.page(r, sess, "Where each market stands", "legal",
		matrixData{legalPage: s.legalNav(r, sess, "/console/legal"), Which: which, Matrix: mx, Categories: mx.Categories}))
	return nil
}

// ---- draft rules ----

type rulesData struct {
	legalPage
	Draft     policy.Draft
	Doc       *policy.Document
	Changed   map[string]string // rule name → added/changed against live
	Removed   []string
	Approval  *policy.Approval
	LiveNames map[string]bool
}

func (s *Server) draftDoc(ctx context.Context) (policy.Draft, *policy.Document, error) {
	d, err := s.deps.Legal.Policy.Draft(ctx)
	if err != nil {
		return d, nil, err
	}
	doc, err := policy.ParseDocument(d.Content)
	return d, doc, err
}

func (s *Server) liveDoc(ctx context.Context) (*policy.Document, error) {
	c, err := s.deps.Legal.Policy.LiveCompiled(ctx)
	if err != nil {
		return nil, err
	}
	return c.Document(), nil
}

func (s *Server) legalRules(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	d, doc, err := s.draftDoc(r.Context())
	if err != nil {
		return policyErr(err)
	}
	live, err := s.liveDoc(r.Context())
	if err != nil {
		return policyErr(err)
	}
	diff, err := policy.Diff(live, doc, "live", "draft")
	if err != nil {
		return err
	}
	data := rulesData{legalPage: s.legalNav(r, sess, "/console/legal/rules"), Draft: d, Doc: doc, Changed: map[string]string{}, LiveNames: map[string]bool{}}
	for _, rc := range diff.Rules {
		if rc.Kind == "removed" {
			data.Removed = append(data.Removed, rc.Name)
		} else {
			data.Changed[rc.Name] = rc.Kind
		}
	}
	if ap, err := s.deps.Legal.Policy.PendingApproval(r.Context()); err == nil {
		data.Approval = &ap
	}
	s.render(w, r, http.StatusOK, "legal_rules", s.page(r, sess, "Draft rules", "legal", data))
	return nil
}

// ruleForm is the rule editor's form.
type ruleForm struct {
	Orig, Name, Description, Markets, Except, Scope, When, Outcome, Code string
	GroundKind, GroundRef, GroundExplanation, Grounds, Category, Notes   string
	Classes                                                              []int
}

func formOfRule(r policy.Rule) ruleForm {
	f := ruleForm{Orig: r.Name, Name: r.Name, Description: r.Description, Markets: strings.Join(r.Markets, ", "), Except: strings.Join(r.Except, ", "),
		Scope: r.Scope, When: string(r.When), Outcome: r.Outcome, Code: r.Code, GroundKind: r.Ground.Kind, GroundRef: r.Ground.Ref,
		GroundExplanation: r.Ground.Explanation, Category: r.Category, Notes: r.Notes, Classes: r.Classes}
	if f.Scope == "" {
		f.Scope = policy.ScopeDesign
	}
	if len(r.Grounds) > 0 {
		b, _ := json.MarshalIndent(r.Grounds, "", "  ")
		f.Grounds = string(b)
	}
	return f
}

func legalSplitList(s string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }) {
		if p != "*" {
			p = strings.ToUpper(p)
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

func readRuleForm(r *http.Request) ruleForm {
	f := ruleForm{Orig: r.PostFormValue("orig"), Name: strings.TrimSpace(r.PostFormValue("name")), Description: strings.TrimSpace(r.PostFormValue("description")),
		Markets: r.PostFormValue("markets"), Except: r.PostFormValue("except"), Scope: r.PostFormValue("scope"),
		When: strings.ReplaceAll(r.PostFormValue("when"), "\r\n", "\n"), Outcome: r.PostFormValue("outcome"), Code: strings.TrimSpace(r.PostFormValue("code")),
		GroundKind: r.PostFormValue("ground_kind"), GroundRef: strings.TrimSpace(r.PostFormValue("ground_ref")),
		GroundExplanation: strings.TrimSpace(r.PostFormValue("ground_explanation")), Grounds: strings.TrimSpace(r.PostFormValue("grounds")),
		Category: strings.TrimSpace(r.PostFormValue("category")), Notes: strings.TrimSpace(r.PostFormValue("notes"))}
	for _, c := range r.PostForm["classes"] {
		if n, err := strconv.Atoi(c); err == nil && !slices.Contains(f.Classes, n) {
			f.Classes = append(f.Classes, n)
		}
	}
	slices.Sort(f.Classes)
	return f
}

// rule builds the policy rule; a malformed per-market grounds JSON is a
// CompileError on that field.
func (f ruleForm) rule() (policy.Rule, error) {
	r := policy.Rule{Name: f.Name, Description: f.Description, Markets: legalSplitList(f.Markets), Except: legalSplitList(f.Except), Classes: f.Classes,
		When: policy.Condition(f.When), Outcome: f.Outcome, Code: f.Code, Category: f.Category, Notes: f.Notes,
		Ground: mustertype.Ground{Kind: f.GroundKind, Ref: f.GroundRef, Explanation: f.GroundExplanation}}
	if f.Scope != policy.ScopeDesign {
		r.Scope = f.Scope
	}
	if f.Grounds != "" {
		if err := json.Unmarshal([]byte(f.Grounds), &r.Grounds); err != nil {
			return r, &policy.CompileError{Rule: f.Name, Field: "grounds", Msg: "per-market grounds must be a JSON object {\"DE\": {\"kind\", \"ref\", \"explanation\"}}: " + err.Error()}
		}
	}
	return r, nil
}

// withRule returns the draft's canonical content with the form's rule put
// in place of its original (or appended), and the document.
func (s *Server) withRule(ctx context.Context, f ruleForm) ([]byte, policy.Draft, error) {
	d, doc, err := s.draftDoc(ctx)
	if err != nil {
		return nil, d, err
	}
	rule, err := f.rule()
	if err != nil {
		return nil, d, err
	}
	if i := doc.RuleIndex(f.Orig); f.Orig != "" && i >= 0 {
		doc.Rules[i] = rule
	} else {
		doc.Rules = append(doc.Rules, rule)
	}
	content, err := doc.Canonical()
	if err != nil {
		return nil, d, err
	}
	return content, d, nil
}

type ruleData struct {
	legalPage
	Form        ruleForm
	New         bool
	Live        *policy.Rule
	LiveWhen    string
	Errors      []*policy.CompileError
	Outcomes    []string
	Scopes      []string
	GroundKinds []string
	Classes     []classOption
	Categories  []string
	Designs     []store.Design
	Probes      []policy.Probe
}

type classOption struct {
	Class    int
	Products string
	Checked  bool
}

// classOptions are the Nice classes of the products Muster screens.
func classOptions() []classOption {
	var out []classOption
	for _, p := range catalog.Products {
		i := slices.IndexFunc(out, func(o classOption) bool { return o.Class == p.NiceClass })
		if i < 0 {
			out = append(out, classOption{Class: p.NiceClass, Products: p.Title})
			continue
		}
		out[i].Products += ", " + p.Title
	}
	slices.SortFunc(out, func(a, b classOption) int { return a.Class - b.Class })
	return out
}

// dsaCategories are the DSA Transparency Database statement categories.
var dsaCategories = []string{"STATEMENT_CATEGORY_ANIMAL_WELFARE", "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
	"STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
	"STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS", "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR",
	"STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT", "STATEMENT_CATEGORY_PROTECTION_OF_MINORS", "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
	"STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "STATEMENT_CATEGORY_SELF_HARM", "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE",
	"STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS", "STATEMENT_CATEGORY_VIOLENCE"}

func (s *Server) ruleEditor(w http.ResponseWriter, r *http.Request, sess *accounts.Session, f ruleForm, isNew bool, status int, errs []*policy.CompileError) error {
	data := ruleData{legalPage: s.legalNav(r, sess, "/console/legal/rules"), Form: f, New: isNew, Errors: errs,
		Outcomes: []string{policy.Block, policy.Review, policy.Allow}, Scopes: []string{policy.ScopeDesign, policy.ScopeFinding},
		GroundKinds: []string{policy.GroundStatute, policy.GroundTerms, policy.GroundNone}, Classes: classOptions(), Categories: dsaCategories,
		Probes: legalProbes()}
	for i := range data.Classes {
		data.Classes[i].Checked = slices.Contains(f.Classes, data.Classes[i].Class)
	}
	if live, err := s.liveDoc(r.Context()); err == nil {
		if i := live.RuleIndex(f.Orig); f.Orig != "" && i >= 0 {
			data.Live = &live.Rules[i]
			data.LiveWhen = string(live.Rules[i].When)
		}
	}
	ds, err := s.deps.Store.RecentDecided(r.Context(), 30)
	if err != nil {
		return err
	}
	data.Designs = ds
	title := "Rule " + f.Name
	if isNew {
		title = "New rule"
	}
	s.render(w, r, status, "legal_rule", s.page(r, sess, title, "legal", data))
	return nil
}

func legalProbes() []policy.Probe {
	var out []policy.Probe
	for _, c := range policy.MatrixCategories([]string{"EU", "US"}) {
		out = append(out, c.Probes...)
	}
	return out
}

func (s *Server) legalRule(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	_, doc, err := s.draftDoc(r.Context())
	if err != nil {
		return policyErr(err)
	}
	i := doc.RuleIndex(r.PathValue("name"))
	if i < 0 {
		return errorf(http.StatusNotFound, "The draft has no rule %q.", r.PathValue("name"))
	}
	return s.ruleEditor(w, r, sess, formOfRule(doc.Rules[i]), false, http.StatusOK, nil)
}

func (s *Server) legalRuleNew(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	f := ruleForm{Scope: policy.ScopeDesign, Outcome: policy.Review, GroundKind: policy.GroundTerms, Markets: "*"}
	if c := r.URL.Query().Get("copy"); c != "" {
		_, doc, err := s.draftDoc(r.Context())
		if err != nil {
			return policyErr(err)
		}
		if i := doc.RuleIndex(c); i >= 0 {
			f = formOfRule(doc.Rules[i])
			f.Orig, f.Name = "", c+"_copy"
		}
	}
	return s.ruleEditor(w, r, sess, f, true, http.StatusOK, nil)
}

// legalRuleValidate type-checks the form's rule inside the draft and
// answers the errors legalFragment (an empty list: it compiles).
func (s *Server) legalRuleValidate(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	f := readRuleForm(r)
	content, _, err := s.withRule(r.Context(), f)
	if err == nil {
		_, err = policy.Validate(content, policy.Config{})
	}
	return s.legalFragment(w, "legal_rule", "rule-errors", map[string]any{"Errors": compileErrors(err), "Checked": true})
}

func (s *Server) legalRuleSave(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	f := readRuleForm(r)
	content, d, err := s.withRule(r.Context(), f)
	if err == nil && r.PostFormValue("revision") != "" && r.PostFormValue("revision") != strconv.FormatInt(d.Revision, 10) {
		err = fmt.Errorf("%w: the draft was saved by %s since you opened it (revision %d, you had %s): reload and redo your edit", policy.ErrConflict, d.UpdatedBy, d.Revision, r.PostFormValue("revision"))
	}
	if err == nil {
		_, err = s.deps.Legal.Policy.SaveDraft(r.Context(), legalActor(sess), content)
	}
	var ce *policy.CompileError
	if errors.As(err, &ce) {
		return s.ruleEditor(w, r, sess, f, f.Orig == "", http.StatusUnprocessableEntity, compileErrors(err))
	}
	if err != nil {
		return policyErr(err)
	}
	redirect(w, r, "/console/legal/rules/"+url.PathEscape(f.Name)+"?saved=rule")
	return nil
}

func (s *Server) legalRuleDelete(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	_, doc, err := s.draftDoc(r.Context())
	if err != nil {
		return policyErr(err)
	}
	i := doc.RuleIndex(r.PathValue("name"))
	if i < 0 {
		return errorf(http.StatusNotFound, "The draft has no rule %q.", r.PathValue("name"))
	}
	doc.Rules = slices.Delete(doc.Rules, i, i+1)
	content, err := doc.Canonical()
	if err != nil {
		return err
	}
	if _, err := s.deps.Legal.Policy.SaveDraft(r.Context(), legalActor(sess), content); err != nil {
		return policyErr(err)
	}
	redirect(w, r, "/console/legal/rules?saved=deleted")
	return nil
}

// previewRow is one market of a preview: live and draft side by side.
type previewRow struct {
	Market             string
	Live, Draft        mustertype.MarketVerdict
	Changed            bool
	StatementOfReasons string
}

type previewData struct {
	Errors  []*policy.CompileError
	Design  *store.Design
	Probe   string
	Rows    []previewRow
	Message string
}

// previewInput is the stored design or probe the preview decides.
func (s *Server) previewInput(ctx context.Context, designID, probe string, markets []string) (mustertype.Input, *store.Design, error) {
	if designID != "" {
		if _, err := parseUUID(designID); err != nil {
			return mustertype.Input{}, nil, errorf(http.StatusNotFound, "No such design.")
		}
		sd, err := s.deps.Store.StoredDesign(ctx, designID)
		if errors.Is(err, store.ErrNotFound) {
			return mustertype.Input{}, nil, errorf(http.StatusNotFound, "No decided design %s.", designID)
		}
		if err != nil {
			return mustertype.Input{}, nil, err
		}
		d, err := s.deps.Store.DesignByID(ctx, designID)
		if err != nil {
			return mustertype.Input{}, nil, err
		}
		if len(markets) > 0 {
			sd.Input.Markets = markets
		}
		return sd.Input, &d, nil
	}
	if len(markets) == 0 {
		markets = []string{"DE", "FR", "EU", "US", "GB"}
	}
	for _, p := range legalProbes() {
		if p.Key == probe {
			return mustertype.Input{DesignID: "probe-" + p.Key, Product: "tshirt", Markets: markets, Findings: p.Findings}, nil, nil
		}
	}
	return mustertype.Input{}, nil, errorf(http.StatusBadRequest, "Choose a stored design or a probe.")
}

func (s *Server) preview(ctx context.Context, content []byte, in mustertype.Input) ([]previewRow, error) {
	draft, err := policy.Preview(ctx, content, in, policy.Config{})
	if err != nil {
		return nil, err
	}
	live, err := s.deps.Legal.Policy.LiveCompiled(ctx)
	if err != nil {
		return nil, err
	}
	ld, err := live.Decide(ctx, in)
	if err != nil {
		return nil, err
	}
	var rows []previewRow
	for i, mv := range draft.Markets {
		row := previewRow{Market: mv.Market, Live: ld.Markets[i], Draft: mv, Changed: ld.Markets[i].Outcome != mv.Outcome}
		if len(mv.StatementOfReasons) > 0 {
			var buf bytes.Buffer
			_ = json.Indent(&buf, mv.StatementOfReasons, "", "  ")
			row.StatementOfReasons = buf.String()
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func (s *Server) legalRulePreview(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	f := readRuleForm(r)
	var markets []string
	if m := strings.TrimSpace(r.PostFormValue("preview_markets")); m != "" {
		var err error
		if markets, err = catalog.ParseMarkets(m); err != nil {
			return s.legalFragment(w, "legal_rule", "preview", previewData{Message: err.Error()})
		}
	}
	in, d, err := s.previewInput(r.Context(), r.PostFormValue("design"), r.PostFormValue("probe"), markets)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return s.legalFragment(w, "legal_rule", "preview", previewData{Message: e.Message})
		}
		return err
	}
	content, _, err := s.withRule(r.Context(), f)
	var rows []previewRow
	if err == nil {
		rows, err = s.preview(r.Context(), content, in)
	}
	if err != nil {
		if ces := compileErrors(err); len(ces) > 0 {
			return s.legalFragment(w, "legal_rule", "preview", previewData{Errors: ces})
		}
		return err
	}
	return s.legalFragment(w, "legal_rule", "preview", previewData{Design: d, Probe: r.PostFormValue("probe"), Rows: rows})
}

// ---- parameters ----

type paramsData struct {
	legalPage
	Draft  policy.Draft
	JSON   string
	Errors []*policy.CompileError
}

func paramsJSON(doc *policy.Document) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	keys := make([]string, 0, len(doc.Params))
	for k := range doc.Params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	buf.WriteString("{\n")
	for i, k := range keys {
		var v bytes.Buffer
		_ = json.Compact(&v, doc.Params[k])
		fmt.Fprintf(&buf, "  %q: %s", k, v.String())
		if i < len(keys)-1 {
			buf.WriteString(",")
		}
		buf.WriteString("\n")
	}
	buf.WriteString("}")
	return buf.String()
}

func (s *Server) legalParams(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	d, doc, err := s.draftDoc(r.Context())
	if err != nil {
		return policyErr(err)
	}
	s.render(w, r, http.StatusOK, "legal_params", s.page(r, sess, "Parameters", "legal",
		paramsData{legalPage: s.legalNav(r, sess, "/console/legal/params"), Draft: d, JSON: paramsJSON(doc)}))
	return nil
}

func (s *Server) withParams(ctx context.Context, raw string) ([]byte, error) {
	_, doc, err := s.draftDoc(ctx)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	var params map[string]json.RawMessage
	if err := dec.Decode(&params); err != nil {
		line, col := 1, 1
		if se, ok := err.(*json.SyntaxError); ok {
			line, col = legalLineCol(raw, int(se.Offset))
		}
		return nil, &policy.CompileError{Field: "params", Line: line, Column: col, Msg: err.Error()}
	}
	doc.Params = params
	content, err := doc.Canonical()
	if err != nil {
		return nil, err
	}
	_, err = policy.Validate(content, policy.Config{})
	return content, err
}

func legalLineCol(s string, off int) (int, int) {
	line, col := 1, 1
	for i, c := range s {
		if i >= off {
			break
		}
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

func (s *Server) legalParamsValidate(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	_, err := s.withParams(r.Context(), r.PostFormValue("params"))
	return s.legalFragment(w, "legal_rule", "rule-errors", map[string]any{"Errors": compileErrors(err), "Checked": true})
}

func (s *Server) legalParamsSave(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	content, err := s.withParams(r.Context(), r.PostFormValue("params"))
	if err == nil {
		_, err = s.deps.Legal.Policy.SaveDraft(r.Context(), legalActor(sess), content)
	}
	if ces := compileErrors(err); err != nil && len(ces) > 0 && errors.As(err, new(*policy.CompileError)) {
		d, _, _ := s.draftDoc(r.Context())
		s.render(w, r, http.StatusUnprocessableEntity, "legal_params", s.page(r, sess, "Parameters", "legal",
			paramsData{legalPage: s.legalNav(r, sess, "/console/legal/params"), Draft: d, JSON: r.PostFormValue("params"), Errors: ces}))
		return nil
	}
	if err != nil {
		return policyErr(err)
	}
	redirect(w, r, "/console/legal/params?saved=params")
	return nil
}

// ---- diff ----

type diffData struct {
	legalPage
	A, B, LabelA, LabelB string
	Diff                 policy.DocDiff
}

func (s *Server) docDiff(ctx context.Context, a, b string) (diffData, error) {
	ca, la, err := policy.Resolve(ctx, s.deps.Legal.Policy, a)
	if err != nil {
		return diffData{}, policyErr(err)
	}
	cb, lb, err := policy.Resolve(ctx, s.deps.Legal.Policy, b)
	if err != nil {
		return diffData{}, policyErr(err)
	}
	da, err := policy.ParseDocument(ca)
	if err != nil {
		return diffData{}, policyErr(err)
	}
	db, err := policy.ParseDocument(cb)
	if err != nil {
		return diffData{}, policyErr(err)
	}
	d, err := policy.Diff(da, db, a, b)
	if err != nil {
		return diffData{}, err
	}
	return diffData{A: a, B: b, LabelA: la, LabelB: lb, Diff: d}, nil
}

func (s *Server) legalDiff(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	a, b := r.URL.Query().Get("a"), r.URL.Query().Get("b")
	if a == "" {
		a = "live"
	}
	if b == "" {
		b = "draft"
	}
	data, err := s.docDiff(r.Context(), a, b)
	if err != nil {
		return err
	}
	data.legalPage = s.legalNav(r, sess, "/console/legal/diff")
	s.render(w, r, http.StatusOK, "legal_diff", s.page(r, sess, "Diff", "legal", data))
	return nil
}

// ---- shared ----

// legalFragment renders one named template of a page's set (an htmx answer).
func (s *Server) legalFragment(w http.ResponseWriter, page, name string, data any) error {
	t, ok := s.views.pages[page]
	if !ok {
		return fmt.Errorf("no page %q", page)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, data); err != nil {
		return fmt.Errorf("legalFragment %s/%s: %w", page, name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
	return nil
}

func legalFormInt(r *http.Request, name string, def int) int {
	if v := strings.TrimSpace(r.FormValue(name)); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return def
}

func legalPathID(r *http.Request, name string) (int64, error) {
	n, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || n <= 0 {
		return 0, errorf(http.StatusNotFound, "Not found.")
	}
	return n, nil
}

var _ = time.Second
