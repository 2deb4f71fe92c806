package console

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/muster-dev/muster/accounts"
	"github.com/muster-dev/muster/mustertype"
	"github.com/muster-dev/muster/review"
	"github.com/muster-dev/muster/store"
)

var assetHash = regexp.MustCompile(`\?v=[0-9a-f]{12}`)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name.golden (rewritten with -update).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	// Asset hashes change with every CSS or script edit: not the page's business.
	got = assetHash.ReplaceAll(got, []byte("?v=HASH"))
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./console -run Golden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s (run with -update after a deliberate change):\n%s", name, path, got)
	}
}

// fixtureSession is a signed-in platform reviewer with fixed values.
func fixtureSession() *accounts.Session {
	at := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	return &accounts.Session{
		User: accounts.User{ID: "00000000-0000-0000-0000-0000000000a1", TenantID: "00000000-0000-0000-0000-0000000000f1", TenantName: "plat", Platform: true,
			Email: "rev@example.com", Name: "Rita Reviewer", Role: accounts.RoleReviewer, CreatedAt: at, LastLoginAt: &at},
		CSRF: "CSRF-TOKEN", CreatedAt: at, ExpiresAt: at.Add(12 * time.Hour),
	}
}

func goldenServer(t *testing.T) *Server {
	t.Helper()
	s, err := New(Config{}, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	s.sections = []Section{{Key: "review", Title: "Review", Path: "/console/review", Summary: "Queues of flagged designs.", Roles: reviewRoles},
		{Key: "legal", Title: "Legal", Path: "/console/legal", Summary: "Rules per market.", Roles: []string{accounts.RoleLegal}}}
	return s
}

func TestGoldenPages(t *testing.T) {
	t.Parallel()
	s := goldenServer(t)
	sess := fixtureSession()
	signin := s.page(nil, nil, "Sign in", "", signinData{Next: "/console/review", Email: "rev@example.com", Message: "Wrong email or password."})
	signin.CSRF = "SIGNIN-TOKEN"
	grey := *sess
	grey.User.Prefs = accounts.Prefs{Greyscale: true, HideShortcutHints: true}
	tests := []struct {
		name, view string
		p          page
	}{
		{"signin", "signin", signin},
		{"home", "home", s.page(nil, sess, "Muster console", "", homeData{Sections: s.visibleSections(sess)})},
		{"account", "account", s.page(nil, &grey, "Your account", "account", accountData{Message: "Preferences saved."})},
		{"error", "error", s.page(nil, sess, "Forbidden", "", errorf(403, "Your role (reviewer) may not open this page."))},
		{"users", "users", s.page(nil, sess, "Console users", "users", usersData{Users: []accounts.User{sess.User, {ID: "u2", Email: "lena@example.com", Role: "legal", TenantName: "acme", LockedUntil: &sess.CreatedAt}},
			Roles: []string{"reviewer", "legal", "admin"}, Created: "lena@example.com", Password: "GENERATED-ONCE"})},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		if err := s.views.execute(&buf, tt.view, tt.p); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		golden(t, tt.name, buf.Bytes())
	}
}

func TestGoldenReviewPages(t *testing.T) {
	t.Parallel()
	s := goldenServer(t)
	sess := fixtureSession()
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	lease := at.Add(10 * time.Minute)
	queues := []review.QueueStats{
		{Queue: review.Queue{Name: "symbols", Title: "Hate and extremist symbols", Description: "Symbols (StGB §86a)", Roles: []string{"reviewer"}, SLASeconds: 4 * 3600}, Pending: 3, Claimed: 1, OldestReadySeconds: 5 * 3600, OverSLA: 2, MayReview: true},
		{Queue: review.Queue{Name: "trademarks", Title: "Trademarks", Roles: []string{"reviewer"}, SLASeconds: 24 * 3600}, Pending: 0, MayReview: true},
		{Queue: review.Queue{Name: "sexual", Title: "Sexual content", Roles: []string{"admin"}, SLASeconds: 8 * 3600}, Pending: 7, OldestReadySeconds: 4.5 * 3600, MayReview: false},
	}
	item := review.Item{ID: 7, TenantID: "t1", DesignID: "00000000-0000-0000-0000-0000000000d1", Kind: review.KindFlagged, Queue: "symbols", State: review.StateOpen,
		PolicyVersion: "default/3", Codes: []string{"extremist_symbol_review"}, Automated: map[string]string{"DE": "review", "US": "allow"},
		ClaimedBy: sess.User.Actor(), ClaimedAt: &at, LeaseUntil: &lease, AgeSeconds: 3 * 3600, SLASeconds: 4 * 3600, CreatedAt: at}
	finding := mustertype.Finding{Type: mustertype.FindingSymbol, Analyzer: "bank", Bank: "symbols", EntryID: "e1", Label: "triskele", Score: 0.83,
		Box: &mustertype.Box{X: 10, Y: 20, W: 30, H: 40}, Attrs: mustertype.Attrs{Symbol: "triskele", Jurisdictions: []string{"DE"}}}
	nsfw := mustertype.Finding{Type: mustertype.FindingNSFW, Analyzer: "nsfw", Label: "sexual_suggestive", Score: 0.64}
	item.Findings = []mustertype.Finding{finding}
	ver := mustertype.Verdict{ID: 1, Outcome: "review", Cause: mustertype.CauseAnalysis, CreatedAt: at, Decision: mustertype.Decision{PolicyVersion: "default/3", Markets: []mustertype.MarketVerdict{
		{Market: "DE", Outcome: "review", Reasons: []mustertype.Reason{{Rule: "extremist_symbol_de", Code: "extremist_symbol_review", Outcome: "review", Message: "A symbol that may be banned", Ground: "StGB §86a",
			Legal: &mustertype.Ground{Kind: "statute", Ref: "StGB §86a", Explanation: "Symbols of unconstitutional organisations."}}}},
		{Market: "US", Outcome: "allow", Reasons: []mustertype.Reason{{Code: "no_rule_matched", Outcome: "allow", Message: "no rule matched"}}},
	}}}
	c := review.ItemContext{Item: item, Verdict: &ver, Verdicts: []mustertype.Verdict{ver}, Findings: []mustertype.Finding{finding, nsfw},
		Design:   store.Design{ID: item.DesignID, Width: 200, Height: 100, MediaType: "image/png", Product: "tshirt", Title: "Sun wheel <b>shirt</b>", Tags: []string{"pagan", "sun"}, CreatedAt: at},
		Comments: []review.Comment{{ID: 1, ItemID: 7, Author: "user:other@example.com", Body: "Looks like the Thule variant?", Kind: "comment", CreatedAt: at}},
		History:  []review.AuditEntry{{ID: 2, At: at, Actor: sess.User.Actor(), Action: review.ActionClaimed}, {ID: 1, At: at, Actor: "system", Action: review.ActionOpened}}}
	id := itemData{C: c, Mine: true, LeaseUntil: "09:10:00 UTC", Reasons: review.Reasons(), Queues: queues[1:], HeartbeatS: 60, Tags: "pagan, sun", Sensitive: true,
		Markets: []marketRow{{Market: "DE", Automated: "review", Current: "review", Reasons: ver.Decision.Markets[0].Reasons, NeedsDecision: true},
			{Market: "US", Automated: "allow", Current: "allow", Reasons: ver.Decision.Markets[1].Reasons}},
		Findings: []findingRow{{N: 1, F: finding, HasBox: true, Relied: true, Reference: "/console/banks/symbols/entries/e1/reference", Correctable: true}, {N: 2, F: nsfw},
			{N: 3, F: mustertype.Finding{Type: mustertype.FindingTrademark, Analyzer: mustertype.AnalyzerListing, Bank: "words", EntryID: "odin", Label: "Odin", Score: 1,
				Attrs: mustertype.Attrs{Match: "text", Field: "title", Text: "Odin"}}, Correctable: true,
				Corrected: &review.Correction{ID: 5, Source: mustertype.CorrectionListing, Field: "title", Scope: "all", CreatedBy: "user:rev@example.com", CreatedAt: at}}},
		Tiles: []tileRow{{X: 0, Y: 0, W: 100, H: 100, Score: 0.64}},
		Boxes: []boxRow{{N: 1, X: 10, Y: 20, W: 30, H: 40, LabelY: 16, Label: "1 triskele"}},
		Others: []otherRow{
			{D: store.Design{ID: "d2", Title: "Odin shirt", Status: "decided", CreatedAt: at}, V: &mustertype.Verdict{Outcome: "block", Cause: mustertype.CauseReview, Actor: "user:rev@example.com"}},
			{D: store.Design{ID: "d3", Title: "Cat mug", Status: "decided", CreatedAt: at}, V: &mustertype.Verdict{Outcome: "allow", Cause: mustertype.CauseAnalysis}},
			{D: store.Design{ID: "d4", Status: "queued", CreatedAt: at}}},
		Record: record{Designs: 3, Blocked: 1, Allowed: 1, ByReviewer: 1}}
	audit := auditData{Entries: c.History, Actor: "user:rev@example.com", Item: "7", CSV: "/console/review/audit?format=csv&item=7", Actions: []string{review.ActionClaimed, review.ActionDecided}}
	qa := review.QAReport{Decided: 40, Agreed: 38, Rate: 0.95, ByCode: []review.Agreement{{Key: "trademark_block", Decided: 20, Agreed: 19, Rate: 0.95}}, ByAnalyzer: []review.Agreement{{Key: "bank", Decided: 30, Agreed: 28, Rate: 28.0 / 30}}}
	tests := []struct {
		name, view string
		p          page
	}{
		{"queues", "queues", s.page(nil, sess, "Review queues", "review", queuesData{Queues: queues, Message: "Nothing is waiting in trademarks. Well done.", Mine: []review.Item{item}})},
		{"item", "item", s.page(nil, sess, "Item 7", "review", id)},
		{"items", "items", s.page(nil, sess, "Review items", "review", itemsData{Items: []review.Item{item}, Queue: "symbols", State: "open", Queues: queues, States: []string{"open", "decided"}, Kinds: []string{"flagged"}, Limit: 50})},
		{"audit", "audit", s.page(nil, sess, "Review audit", "review", audit)},
		{"qa", "qa", s.page(nil, sess, "QA agreement", "review", qa)},
		{"stats", "stats", s.page(nil, sess, "Reviewer statistics", "review", statsData{Days: 7, Choices: []int{1, 7, 30, 90}, Me: "user:rev@example.com", Reviewers: []review.ReviewerStats{
			{Reviewer: "user:rev@example.com", Decided: 120, Blocked: 31, HandleP50: 24.5, HandleP90: 95, Skipped: 3, Escalated: 2, Appealed: 4, Overturned: 1},
			{Reviewer: "user:sam@example.com", Skipped: 1}}})},
		{"access", "access", s.page(nil, sess, "Who viewed design "+item.DesignID, "review", accessData{Design: c.Design, Access: []review.Access{
			{At: at.Add(time.Minute), Actor: "user:rev@example.com", View: review.ViewImage}, {At: at, Actor: "user:rev@example.com", View: review.ViewItem, ItemID: 7, AuditID: 12}}})},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		if err := s.views.execute(&buf, tt.view, tt.p); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		golden(t, tt.name, buf.Bytes())
	}
}
