package review_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/muster-dev/muster/bank"
	"github.com/muster-dev/muster/internal/pgtest"
	"github.com/muster-dev/muster/mustertype"
	"github.com/muster-dev/muster/review"
	"github.com/muster-dev/muster/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// published reads the verdict events decisions announced: the outbox rows
// (besides verdict.recorded) as type:reason, in order, and counts the
// relay kicks.
type published struct {
	pool  *pgxpool.Pool
	kicks atomic.Int64
}

func (p *published) kick() { p.kicks.Add(1) }

func (p *published) types() []string {
	rows, err := p.pool.Query(context.Background(), `SELECT (payload->>'type') || ':' || coalesce(payload->>'reason', '') FROM outbox
		WHERE topic = $1 AND payload->>'type' <> 'verdict.recorded' ORDER BY id`, store.TopicVerdictEvent)
	if err != nil {
		panic(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		panic(err)
	}
	return out
}

// bundle is one test's review setup: a fresh database, the store with the
// review hook, the service, two tenants and reviewers.
type bundle struct {
	t        *testing.T
	ctx      context.Context
	st       *store.Store
	svc      *review.Service
	pub      *published
	platform store.Tenant // the platform operator
	acme     store.Tenant // a merchant tenant
	other    store.Tenant // another merchant tenant
	alice    review.Reviewer
	bob      review.Reviewer
}

func setup(t *testing.T, cfg review.Config) *bundle {
	t.Helper()
	pool := pgtest.New(t)
	if cfg.QARate == 0 {
		cfg.QARate = -1 // no QA sampling unless a test asks
	}
	b := &bundle{t: t, ctx: context.Background(), pub: &published{pool: pool}}
	b.st = store.New(pool, store.WithVerdictHook(review.NewHook(cfg)))
	b.svc = review.New(b.st, b.pub.kick, nil, cfg)
	var err error
	if b.platform, _, err = b.st.CreatePlatformTenant(b.ctx, "platform", ""); err != nil {
		t.Fatal(err)
	}
	if b.acme, _, err = b.st.CreateTenant(b.ctx, "acme", ""); err != nil {
		t.Fatal(err)
	}
	if b.other, _, err = b.st.CreateTenant(b.ctx, "other", ""); err != nil {
		t.Fatal(err)
	}
	b.alice = review.Reviewer{ID: "user:alice", Role: store.RoleReviewer, TenantID: b.platform.ID, Platform: true}
	b.bob = review.Reviewer{ID: "user:bob", Role: store.RoleReviewer, TenantID: b.platform.ID, Platform: true}
	return b
}

// decision builds a policy decision: market → outcome, each with one
// reason of code relying on finding 0.
func decision(code string, markets map[string]string) mustertype.Decision {
	d := mustertype.Decision{PolicyVersion: "7"}
	for _, m := range slices.Sorted(func(yield func(string) bool) {
		for k := range markets {
			if !yield(k) {
				return
			}
		}
	}) {
		o := markets[m]
		r := mustertype.Reason{Rule: code + "_rule", Code: code, Outcome: o, Message: code, Findings: []int{0}}
		if o == mustertype.Allow {
			r = mustertype.Reason{Code: "no_rule_matched", Outcome: o, Message: "no rule matched"}
		}
		d.Markets = append(d.Markets, mustertype.MarketVerdict{Market: m, Outcome: o, Reasons: []mustertype.Reason{r}})
	}
	return d
}

// design submits a design of tenant and records an automated verdict.
func (b *bundle) design(tenant store.Tenant, code string, markets map[string]string) (string, store.Verdict) {
	b.t.Helper()
	var ms []string
	for m := range markets {
		ms = append(ms, m)
	}
	sum := make([]byte, 32)
	_, _ = rand.Read(sum)
	d, _, err := b.st.InsertDesign(b.ctx, store.NewDesign{ID: uuid.NewString(), TenantID: tenant.ID, SHA256: hex.EncodeToString(sum), Bytes: 100, Width: 10, Height: 10,
		MediaType: "image/png", Product: "tshirt", Markets: ms, Force: true})
	if err != nil {
		b.t.Fatal(err)
	}
	findings := []mustertype.Finding{{Type: mustertype.FindingTrademark, Analyzer: "bank", Bank: "logos", EntryID: "acme-logo", Label: "Acme", Score: 0.9}}
	v, _, err := b.st.RecordResult(b.ctx, d.ID, nil, findings, decision(code, markets), map[string]string{"bank": "3"})
	if err != nil {
		b.t.Fatal(err)
	}
	return d.ID, v
}

func (b *bundle) claim(r review.Reviewer, q string) review.Item {
	b.t.Helper()
	it, err := b.svc.Claim(b.ctx, r, q)
	if err != nil {
		b.t.Fatalf("claim by %s: %v", r.ID, err)
	}
	return it
}

func TestFlaggedItemsAreRoutedByData(t *testing.T) {
	t.Parallel()
	b := setup(t, review.Config{})
	tests := []struct {
		code, queue string
	}{
		{"trademark_possible", "trademarks"},
		{"extremist_symbol_unsure", "symbols"},
		{"sexual_explicit_possible", "sexual"},
		{"hate_phrase_possible", "text"},
		{"analysis_incomplete", "general"},
	}
	for _, tt := range tests {
		id, v := b.design(b.acme, tt.code, map[string]string{"DE": "review", "US": "allow"})
		items, err := b.svc.Items(b.ctx, b.alice, review.ItemFilter{DesignID: id})
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != 1 {
			t.Fatalf("%s: %d items, want 1", tt.code, len(items))
		}
		it := items[0]
		if it.Queue != tt.queue || it.Kind != review.KindFlagged || it.VerdictID != v.ID || !slices.Equal(it.Codes, []string{tt.code}) {
			t.Errorf("%s: item %+v, want queue %s", tt.code, it, tt.queue)
		}
		if it.Automated["DE"] != "review" || it.Automated["US"] != "allow" || len(it.Findings) != 1 {
			t.Errorf("%s: automated %v findings %d", tt.code, it.Automated, len(it.Findings))
		}
	}
	// Allowed and blocked designs make no item (QA sampling off).
	id, _ := b.design(b.acme, "trademark_infringement", map[string]string{"DE": "block", "US": "allow"})
	if items, _ := b.svc.Items(b.ctx, b.alice, review.ItemFilter{DesignID: id}); len(items) != 0 {
		t.Fatalf("blocked design got %d items", len(items))
	}
	// Routing is data: send trademarks to the symbols queue.
	admin := review.Reviewer{ID: "user:root", Role: store.RoleAdmin, TenantID: b.platform.ID, Platform: true}
	if _, err := b.svc.SetRoutes(b.ctx, b.alice, nil); !errors.Is(err, review.ErrForbidden) {
		t.Fatalf("a reviewer changed routes: %v", err)
	}
	if _, err := b.svc.SetRoutes(b.ctx, admin, []review.Route{{MatchOn: "code", Pattern: "trademark_*", Queue: "nope"}}); review.ErrorCode(err) != "invalid_routes" {
		t.Fatalf("route to a missing queue: %v", err)
	}
	if _, err := b.svc.SetRoutes(b.ctx, admin, []review.Route{{MatchOn: "code", Pattern: "trademark_*", Queue: "symbols", Priority: 3}}); err != nil {
		t.Fatal(err)
	}
	id, _ = b.design(b.acme, "trademark_possible", map[string]string{"FR": "review"})
	items, _ := b.svc.Items(b.ctx, b.alice, review.ItemFilter{DesignID: id})
	if len(items) != 1 || items[0].Queue != "symbols" || items[0].Priority != 3 {
		t.Fatalf("after re-routing: %+v", items)
	}
}

func TestClaimIsExclusiveUnder20Claimers(t *testing.T) {
	t.Parallel()
	b := setup(t, review.Config{})
	const n = 60
	for range n {
		b.design(b.acme, "trademark_possible", map[string]string{"DE": "review"})
	}
	var mu sync.Mutex
	got := map[int64]string{}
	var wg sync.WaitGroup
	errs := make(chan error, 30)
	// Three chainers (three processes) link audit rows while the claims
	// append them: the chain must come out whole.
	chainCtx, stopChain := context.WithCancel(b.ctx)
	var chainers sync.WaitGroup
	for range 3 {
		chainers.Go(func() {
			for chainCtx.Err() == nil {
				if _, err := review.ChainAudit(chainCtx, b.st.Pool()); err != nil && chainCtx.Err() == nil {
					errs <- err
					return
				}
				time.Sleep(time.Millisecond)
			}
		})
	}
	for w := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := review.Reviewer{ID: "user:r" + string(rune('a'+w)), Role: store.RoleReviewer, TenantID: b.platform.ID, Platform: true}
			for {
				it, err := b.svc.Claim(b.ctx, r, "")
				if errors.Is(err, review.ErrEmpty) {
					return
				}
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				if prev, dup := got[it.ID]; dup {
					errs <- errors.New("item handed twice: to " + prev + " and " + r.ID)
				}
				got[it.ID] = r.ID
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	stopChain()
	chainers.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("%d items claimed, want %d", len(got), n)
	}
	rep, err := review.VerifyAudit(b.ctx, b.st.Pool())
	if err != nil || !rep.OK || rep.Rows != 2*n {
		t.Fatalf("audit chain after concurrent claims: %+v %v", rep, err)
	}
}

func TestLeaseExpiryReturnsTheItem(t *testing.T) {
	t.Parallel()
	b := setup(t, review.Config{Lease: 300 * time.Millisecond})
	b.design(b.acme, "trademark_possible", map[string]string{"DE": "review"})
	it := b.claim(b.alice, "trademarks")
	if it.ClaimedBy != b.alice.ID || it.LeaseUntil == nil || it.ClaimedAt == nil {
		t.Fatalf("claim: %+v", it)
	}
	if _, err := b.svc.Claim(b.ctx, b.bob, ""); !errors.Is(err, review.ErrEmpty) {
		t.Fatalf("a leased item was handed out again: %v", err)
	}
	// A heartbeat keeps it.
	time.Sleep(200 * time.Millisecond)
	if _, err := b.svc.Heartbeat(b.ctx, b.alice, it.ID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if _, err := b.svc.Claim(b.ctx, b.bob, ""); !errors.Is(err, review.ErrEmpty) {
		t.Fatalf("a heartbeated item was handed out again: %v", err)
	}
	// Without heartbeats the lease expires and the item returns.
	time.Sleep(350 * time.Millisecond)
	again := b.claim(b.bob, "")
	if again.ID != it.ID || again.Claims != 2 {
		t.Fatalf("after expiry bob got %+v", again)
	}
	_, err := b.svc.Decide(b.ctx, b.alice, it.ID, review.Decision{Markets: map[string]string{"DE": "allow"}, Reason: "no_violation"})
	if !errors.Is(err, review.ErrNotClaimed) {
		t.Fatalf("alice decided after losing the lease: %v", err)
	}
	if _, err := b.svc.Heartbeat(b.ctx, b.alice, it.ID); !errors.Is(err, review.ErrNotClaimed) {
		t.Fatalf("alice renewed bob's lease: %v", err)
	}
}

func TestDecisionRecordsAHumanVerdict(t *testing.T) {
	t.Parallel()
	b := setup(t, review.Config{})
	id, auto := b.design(b.acme, "extremist_symbol_unsure", map[string]string{"DE": "review", "US": "review", "GB": "allow"})
	it := b.claim(b.alice, "")
	bad := []struct {
		name string
		d    review.Decision
		code string
	}{
		{"market in review left out", review.Decision{Markets: map[string]string{"DE": "block"}, Reason: "extremist_symbol"}, "undecided_markets"},
		{"unknown reason", review.Decision{Markets: map[string]string{"DE": "block", "US": "allow"}, Reason: "because"}, "invalid_reason"},
		{"allow reason for a block", review.Decision{Markets: map[string]string{"DE": "block", "US": "allow"}, Reason: "no_violation"}, "invalid_reason"},
		{"block reason for allows", review.Decision{Markets: map[string]string{"DE": "allow", "US": "allow"}, Reason: "extremist_symbol"}, "invalid_reason"},
		{"market not requested", review.Decision{Markets: map[string]string{"DE": "block", "US": "allow", "JP": "allow"}, Reason: "extremist_symbol"}, "invalid_markets"},
		{"review is not a decision", review.Decision{Markets: map[string]string{"DE": "review", "US": "allow"}, Reason: "extremist_symbol"}, "invalid_markets"},
		{"appeal on a flagged item", review.Decision{Markets: map[string]string{"DE": "block", "US": "allow"}, Reason: "extremist_symbol", Appeal: "uphold"}, "invalid_decision"},
	}
	for _, tt := range bad {
		if _, err := b.svc.Decide(b.ctx, b.alice, it.ID, tt.d); review.ErrorCode(err) != tt.code {
			t.Errorf("%s: %v, want %s", tt.name, err, tt.code)
		}
	}
	res, err := b.svc.Decide(b.ctx, b.alice, it.ID, review.Decision{Markets: map[string]string{"DE": "block", "US": "allow"}, Reason: "extremist_symbol", Note: "SS runes, no counter-speech"})
	if err != nil {
		t.Fatal(err)
	}
	v := res.Verdict
	if v == nil || v.Cause != mustertype.CauseReview || v.Actor != b.alice.ID || v.Outcome != mustertype.Block || v.ID <= auto.ID {
		t.Fatalf("verdict %+v", v)
	}
	if !slices.Equal(res.Changed, []string{"DE", "US"}) || res.Item.State != review.StateDecided || res.Item.Decision["GB"] != "allow" {
		t.Fatalf("result %+v", res)
	}
	latest, _ := b.st.LatestVerdict(b.ctx, id)
	if latest.ID != v.ID {
		t.Fatalf("latest verdict %d, want %d", latest.ID, v.ID)
	}
	de, _ := latest.Decision.Market("DE")
	if de.Reasons[0].Rule != review.HumanRule || de.Reasons[0].Code != "extremist_symbol" || de.Reasons[0].Ground == "" {
		t.Fatalf("DE reasons %+v", de.Reasons)
	}
	var raw map[string]any
	if err := json.Unmarshal(de.StatementOfReasons, &raw); err != nil {
		t.Fatalf("statement of reasons: %v (%s)", err, de.StatementOfReasons)
	}
	if raw["automated_decision"] != "AUTOMATED_DECISION_NOT_AUTOMATED" || raw["decision_ground"] != "DECISION_GROUND_ILLEGAL_CONTENT" {
		t.Fatalf("statement of reasons %s", de.StatementOfReasons)
	}
	if us, _ := latest.Decision.Market("US"); us.StatementOfReasons != nil {
		t.Fatal("a statement of reasons outside the EU")
	}
	if gb, _ := latest.Decision.Market("GB"); gb.Reasons[0].Code != "no_rule_matched" {
		t.Fatalf("a market left out changed: %+v", gb)
	}
	if got := b.pub.types(); !slices.Equal(got, []string{"verdict.changed:"}) || b.pub.kicks.Load() != 1 {
		t.Fatalf("announced %v, %d relay kicks", got, b.pub.kicks.Load())
	}
	// The item is done: deciding again conflicts.
	if _, err := b.svc.Decide(b.ctx, b.alice, it.ID, review.Decision{Markets: map[string]string{"DE": "allow", "US": "allow"}, Reason: "no_violation"}); !errors.Is(err, review.ErrNotOpen) {
		t.Fatalf("decided twice: %v", err)
	}
	evs, _ := b.st.Events(b.ctx, id)
	var types []string
	for _, e := range evs {
		types = append(types, e.Type)
	}
	if !slices.Contains(types, "verdict.reviewed") || !slices.Contains(types, "review.claimed") || !slices.Contains(types, "review.opened") {
		t.Fatalf("events %v", types)
	}
}

func TestRedecideNeverOverridesAHuman(t *testing.T) {
	t.Parallel()
	b := setup(t, review.Config{})
	id, _ := b.design(b.acme, "trademark_possible", map[string]string{"DE": "review", "US": "review"})
	it := b.claim(b.alice, "")
	human, err := b.svc.Decide(b.ctx, b.alice, it.ID, review.Decision{Markets: map[string]string{"DE": "allow", "US": "allow"}, Reason: "licensed"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		version  string
		proposal map[string]string
		items    int // redecide items after this step
	}{
		{"same outcome: nothing to review", "8", map[string]string{"DE": "allow", "US": "allow"}, 0},
		{"a new policy would block: an item, the human verdict stands", "9", map[string]string{"DE": "block", "US": "allow"}, 1},
		{"the same version again: no second item", "9", map[string]string{"DE": "block", "US": "allow"}, 1},
	}
	for _, tt := range tests {
		dec := decision("trademark_infringement", tt.proposal)
		dec.PolicyVersion = tt.version
		v, err := b.st.RecordVerdict(b.ctx, mustertype.NewVerdict{DesignID: id, Decision: dec, Cause: mustertype.CauseRedecide, Actor: "ops", Event: "verdict.redecided"})
		if err != nil {
			t.Fatal(err)
		}
		if v.ID != human.Verdict.ID || v.Cause != mustertype.CauseReview {
			t.Fatalf("%s: a re-decision replaced the human verdict: %+v", tt.name, v)
		}
		latest, _ := b.st.LatestVerdict(b.ctx, id)
		if latest.ID != human.Verdict.ID {
			t.Fatalf("%s: latest verdict %d is not the human one", tt.name, latest.ID)
		}
		items, _ := b.svc.Items(b.ctx, b.alice, review.ItemFilter{DesignID: id, Kind: review.KindRedecide})
		if len(items) != tt.items {
			t.Fatalf("%s: %d redecide items, want %d", tt.name, len(items), tt.items)
		}
		if tt.items == 1 && (items[0].Proposed["DE"] != "block" || items[0].Automated["DE"] != "allow" || items[0].PolicyVersion != "9") {
			t.Fatalf("%s: item %+v", tt.name, items[0])
		}
	}
}

func TestAppealsWithFourEyes(t *testing.T) {
	t.Parallel()
	b := setup(t, review.Config{})
	id, _ := b.design(b.acme, "trademark_possible", map[string]string{"DE": "review"})
	it := b.claim(b.alice, "")
	if _, err := b.svc.Decide(b.ctx, b.alice, it.ID, review.Decision{Markets: map[string]string{"DE": "block"}, Reason: "trademark_infringement"}); err != nil {
		t.Fatal(err)
	}
	allowed, _ := b.design(b.acme, "trademark_possible", map[string]string{"US": "allow"})
	tests := []struct {
		name, tenant, design, msg, code string
	}{
		{"another tenant's design", b.other.ID, id, "mine", "not_found"},
		{"no message", b.acme.ID, id, " ", "invalid_message"},
		{"an allowed design", b.acme.ID, allowed, "why", "not_appealable"},
	}
	for _, tt := range tests {
		if _, err := b.svc.FileAppeal(b.ctx, tt.tenant, tt.design, "key:m", tt.msg); review.ErrorCode(err) != tt.code {
			t.Errorf("%s: %v, want %s", tt.name, err, tt.code)
		}
	}
	a, err := b.svc.FileAppeal(b.ctx, b.acme.ID, id, "key:merchant", "It is our own registered mark.")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.FileAppeal(b.ctx, b.acme.ID, id, "key:merchant", "again"); !errors.Is(err, review.ErrConflict) {
		t.Fatalf("second appeal of one decision: %v", err)
	}
	// Alice made the decision: she is never handed the appeal.
	if _, err := b.svc.Claim(b.ctx, b.alice, ""); !errors.Is(err, review.ErrEmpty) {
		t.Fatalf("alice was handed the appeal of her own decision: %v", err)
	}
	if _, err := b.svc.Bulk(b.ctx, b.alice, []int64{a.ItemID}, review.Decision{Reason: "no_violation", Appeal: "overturn"}); err != nil {
		t.Fatal(err)
	} else if it, _ := b.svc.Item(b.ctx, b.bob, a.ItemID); it.State != review.StateOpen {
		t.Fatal("alice decided the appeal of her own decision in bulk")
	}
	ap := b.claim(b.bob, "appeals")
	if ap.ID != a.ItemID || ap.Kind != review.KindAppeal {
		t.Fatalf("bob claimed %+v", ap)
	}
	res, err := b.svc.Decide(b.ctx, b.bob, ap.ID, review.Decision{Appeal: review.AppealOverturn, Reason: "licensed", Note: "registration EUTM 0181"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Appeal == nil || res.Appeal.State != "overturned" || res.Verdict == nil || res.Verdict.Outcome != "allow" || res.Verdict.Actor != b.bob.ID {
		t.Fatalf("overturn: %+v", res)
	}
	as, err := b.svc.Appeals(b.ctx, b.acme.ID, id)
	if err != nil || len(as) != 1 || as[0].State != "overturned" || *as[0].ResultVerdictID != res.Verdict.ID {
		t.Fatalf("merchant's view %+v %v", as, err)
	}
	if got := b.pub.types(); !slices.Contains(got, "appeal.decided:overturned") || !slices.Contains(got, "verdict.changed:") {
		t.Fatalf("published %v", got)
	}
	if _, err := b.svc.Appeals(b.ctx, b.other.ID, id); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another tenant read the appeals: %v", err)
	}
}

func TestAppealWindowAndUphold(t *testing.T) {
	t.Parallel()
	b := setup(t, review.Config{AppealWindow: func(t time.Time) time.Time { return t.Add(time.Hour) }})
	id, _ := b.design(b.acme, "trademark_infringement", map[string]string{"DE": "block", "US": "allow"})
	a, err := b.svc.FileAppeal(b.ctx, b.acme.ID, id, "key:m", "please")
	if err != nil {
		t.Fatal(err)
	}
	// An automated decision is appealed: anyone may decide.
	it := b.claim(b.alice, "appeals")
	if _, err := b.svc.Decide(b.ctx, b.alice, it.ID, review.Decision{Appeal: review.AppealUphold, Markets: map[string]string{"DE": "allow"}, Reason: "trademark_infringement"}); review.ErrorCode(err) != "invalid_decision" {
		t.Fatalf("uphold that allows: %v", err)
	}
	res, err := b.svc.Decide(b.ctx, b.alice, it.ID, review.Decision{Appeal: review.AppealUphold, Reason: "trademark_infringement"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Appeal.State != "upheld" || res.Verdict == nil || res.Verdict.Cause != mustertype.CauseReview || len(res.Changed) != 0 {
		t.Fatalf("uphold: %+v", res)
	}
	if a.ID != res.Appeal.ID {
		t.Fatal("another appeal decided")
	}
	// Past the window (1 hour here, 6 months by default) no appeal.
	b2 := setup(t, review.Config{AppealWindow: func(t time.Time) time.Time { return t.Add(-time.Second) }})
	id2, _ := b2.design(b2.acme, "trademark_infringement", map[string]string{"DE": "block"})
	if _, err := b2.svc.FileAppeal(b2.ctx, b2.acme.ID, id2, "key:m", "late"); !errors.Is(err, review.ErrAppealWindow) {
		t.Fatalf("late appeal: %v", err)
	}
}

func TestTenantScope(t *testing.T) {
	t.Parallel()
	b := setup(t, review.Config{})
	b.design(b.other, "trademark_possible", map[string]string{"DE": "review"})
	acmeReviewer := review.Reviewer{ID: "key:acme-rev", Role: store.RoleReviewer, TenantID: b.acme.ID}
	if _, err := b.svc.Claim(b.ctx, acmeReviewer, ""); !errors.Is(err, review.ErrEmpty) {
		t.Fatalf("a tenant reviewer was handed another tenant's item: %v", err)
	}
	items, _ := b.svc.Items(b.ctx, b.alice, review.ItemFilter{})
	if len(items) != 1 {
		t.Fatalf("platform reviewer sees %d items", len(items))
	}
	if _, err := b.svc.Item(b.ctx, acmeReviewer, items[0].ID); !errors.Is(err, review.ErrNotFound) {
		t.Fatalf("a tenant reviewer read another tenant's item: %v", err)
	}
	if got, _ := b.svc.Items(b.ctx, acmeReviewer, review.ItemFilter{}); len(got) != 0 {
		t.Fatalf("a tenant reviewer lists %d foreign items", len(got))
	}
	if audit, _ := b.svc.Audit(b.ctx, acmeReviewer, review.AuditFilter{}); len(audit) != 0 {
		t.Fatalf("a tenant reviewer reads %d foreign audit rows", len(audit))
	}
	b.design(b.acme, "trademark_possible", map[string]string{"DE": "review"})
	if it := b.claim(acmeReviewer, ""); it.TenantID != b.acme.ID {
		t.Fatalf("tenant reviewer claimed %+v", it)
	}
	merchant := review.Reviewer{ID: "key:m", Role: store.RoleMerchant, TenantID: b.acme.ID}
	if _, err := b.svc.Claim(b.ctx, merchant, ""); !errors.Is(err, review.ErrForbidden) {
		t.Fatalf("a merchant claimed: %v", err)
	}
}

func TestEscalateReleaseCommentPriority(t *testing.T) {
	t.Parallel()
	b := setup(t, review.Config{})
	b.design(b.acme, "trademark_possible", map[string]string{"DE": "review"})
	second, _ := b.design(b.acme, "trademark_possible", map[string]string{"DE": "review"})
	it := b.claim(b.alice, "trademarks")
	// Skip: alice is handed the next one, not the same again.
	if _, err := b.svc.Release(b.ctx, b.alice, it.ID, "not sure"); err != nil {
		t.Fatal(err)
	}
	next := b.claim(b.alice, "trademarks")
	if next.ID == it.ID || next.DesignID != second {
		t.Fatalf("after skip alice got %d again", next.ID)
	}
	if _, err := b.svc.Escalate(b.ctx, b.alice, next.ID, "symbols", ""); review.ErrorCode(err) != "invalid_comment" {
		t.Fatalf("escalation without a comment: %v", err)
	}
	if _, err := b.svc.Escalate(b.ctx, b.alice, next.ID, "nope", "x"); review.ErrorCode(err) != "invalid_queue" {
		t.Fatalf("escalation to no queue: %v", err)
	}
	esc, err := b.svc.Escalate(b.ctx, b.alice, next.ID, "symbols", "looks like a runic symbol, legal please")
	if err != nil || esc.Queue != "symbols" || esc.LeaseUntil != nil || esc.Escalations != 1 {
		t.Fatalf("escalate: %+v %v", esc, err)
	}
	if _, err := b.svc.AddComment(b.ctx, b.bob, esc.ID, "agree, checking the register"); err != nil {
		t.Fatal(err)
	}
	cs, _ := b.svc.Comments(b.ctx, b.bob, esc.ID)
	if len(cs) != 2 || cs[0].Kind != "escalation" || cs[1].Author != b.bob.ID {
		t.Fatalf("comments %+v", cs)
	}
	// Priority reorders: bob claims the escalated one only after raising it.
	if _, err := b.svc.SetPriority(b.ctx, b.bob, it.ID, 50); err != nil {
		t.Fatal(err)
	}
	if got := b.claim(b.bob, ""); got.ID != it.ID {
		t.Fatalf("priority 50 item not first: got %d", got.ID)
	}
	ctxt, err := b.svc.Context(b.ctx, b.bob, esc.ID)
	if err != nil || ctxt.Design.ID != esc.DesignID || ctxt.Verdict == nil || len(ctxt.History) < 3 || len(ctxt.Others) != 1 {
		t.Fatalf("context: %+v %v", ctxt, err)
	}
}

func TestBulk(t *testing.T) {
	t.Parallel()
	b := setup(t, review.Config{})
	var ids []int64
	for range 5 {
		id, _ := b.design(b.acme, "sexual_explicit_possible", map[string]string{"US": "review"})
		items, _ := b.svc.Items(b.ctx, b.alice, review.ItemFilter{DesignID: id})
		ids = append(ids, items[0].ID)
	}
	held := b.claim(b.bob, "") // bob holds the first
	res, err := b.svc.Bulk(b.ctx, b.alice, append(ids, 999999), review.Decision{Markets: map[string]string{"US": "block"}, Reason: "sexual_content"})
	if err != nil {
		t.Fatal(err)
	}
	ok := 0
	for _, r := range res {
		switch {
		case r.ID == held.ID && r.Code != "not_claimed":
			t.Errorf("item held by bob: %+v", r)
		case r.ID == 999999 && r.Code != "not_found":
			t.Errorf("missing item: %+v", r)
		case r.OK:
			ok++
		}
	}
	if ok != 4 {
		t.Fatalf("%d decided in bulk, want 4: %+v", ok, res)
	}
	if _, err := b.svc.Bulk(b.ctx, b.alice, ids, review.Decision{Markets: map[string]string{"US": "block"}}); review.ErrorCode(err) != "invalid_reason" {
		t.Fatalf("bulk without a reason: %v", err)
	}
}

func TestQASampling(t *testing.T) {
	t.Parallel()
	b := setup(t, review.Config{QARate: 0.25})
	const n = 200
	for range n {
		b.design(b.acme, "trademark_infringement", map[string]string{"DE": "block", "US": "allow"})
	}
	items, err := b.svc.Items(b.ctx, b.alice, review.ItemFilter{Queue: review.QueueQA, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	// 25% of 200 = 50; the binomial standard deviation is ~6.
	if len(items) < 30 || len(items) > 70 {
		t.Fatalf("%d of %d sampled at 25%%", len(items), n)
	}
	it := b.claim(b.alice, review.QueueQA)
	// Agreeing without restating markets records no verdict.
	res, err := b.svc.Decide(b.ctx, b.alice, it.ID, review.Decision{Reason: "trademark_infringement"})
	if err != nil || res.Verdict != nil || res.Item.Decision["DE"] != "block" {
		t.Fatalf("QA agreement: %+v %v", res, err)
	}
	rep, err := b.svc.QAReport(b.ctx, b.alice)
	if err != nil || len(rep.ByCode) == 0 || rep.Decided != 1 || rep.Agreed != 1 {
		t.Fatalf("QA report %+v %v", rep, err)
	}
}

func TestAuditChainDetectsTampering(t *testing.T) {
	t.Parallel()
	b := setup(t, review.Config{})
	b.design(b.acme, "trademark_possible", map[string]string{"DE": "review"})
	it := b.claim(b.alice, "")
	if _, err := b.svc.AddComment(b.ctx, b.alice, it.ID, "hmm"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.Decide(b.ctx, b.alice, it.ID, review.Decision{Markets: map[string]string{"DE": "allow"}, Reason: "no_violation"}); err != nil {
		t.Fatal(err)
	}
	// A console view of the design is a row of the same chain.
	if err := b.svc.LogView(b.ctx, b.bob.ID, it.TenantID, it.DesignID, review.ViewItem, it.ID); err != nil {
		t.Fatal(err)
	}
	pool := b.st.Pool()
	// Not chained yet: the rows are listed (pending, newest first) and
	// nobody can change or remove them before the chainer links them.
	hist, err := b.svc.Audit(b.ctx, b.alice, review.AuditFilter{ItemID: it.ID})
	if err != nil || len(hist) != 4 || !hist[0].Pending || hist[0].Action != review.ActionDecided || hist[3].Action != review.ActionOpened {
		t.Fatalf("pending history: %+v %v", hist, err)
	}
	for _, sql := range []string{`UPDATE review_audit_pending SET actor = 'x'`, `DELETE FROM review_audit_pending`} {
		if _, err := pool.Exec(b.ctx, sql); err == nil {
			t.Fatalf("%s: accepted", sql)
		}
	}
	rep, err := review.VerifyAudit(b.ctx, pool)
	if err != nil || !rep.OK || rep.Rows != 5 || rep.Head == "" {
		t.Fatalf("intact chain: %+v %v", rep, err)
	}
	hist, err = b.svc.Audit(b.ctx, b.alice, review.AuditFilter{ItemID: it.ID})
	if err != nil || len(hist) != 4 || hist[0].Pending || hist[0].ID != 4 || hist[0].Hash == "" || hist[3].ID != 1 {
		t.Fatalf("chained history: %+v %v", hist, err)
	}
	if _, err := pool.Exec(b.ctx, `UPDATE review_audit SET actor = 'x' WHERE id = 2`); err == nil {
		t.Fatal("the audit log accepted an update")
	}
	tamper := []struct {
		name, sql string
		at        int64
	}{
		{"edited row", `UPDATE review_audit SET data = replace(data, 'hmm', 'ok') WHERE id = 3`, 3},
		{"deleted row", `DELETE FROM review_audit WHERE id = 2`, 2},
		{"deleted tail", `DELETE FROM review_audit WHERE id >= 2`, 2},
		{"edited view (who looked)", `UPDATE review_audit SET actor = 'user:nobody' WHERE action = 'design.viewed'`, 5},
		{"deleted view", `DELETE FROM review_audit WHERE action = 'design.viewed'`, 5},
	}
	for _, tt := range tamper {
		tx, err := pool.Begin(b.ctx)
		if err != nil {
			t.Fatal(err)
		}
		// The owner can switch the trigger off: the chain still tells.
		if _, err := tx.Exec(b.ctx, `ALTER TABLE review_audit DISABLE TRIGGER review_audit_no_change`); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(b.ctx, tt.sql); err != nil {
			t.Fatal(err)
		}
		// Verify inside the transaction, then roll the tampering back.
		rep, err := review.VerifyAudit(b.ctx, tx)
		_ = tx.Rollback(b.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rep.OK || rep.BrokenAt != tt.at {
			t.Errorf("%s: report %+v, want broken at %d", tt.name, rep, tt.at)
		}
	}
}

// TestNotThisMark: a reviewer marks a bank finding wrong; it is recorded
// with the reviewer and time, audited, idempotent, scoped to the tenant for
// a tenant's own reviewers, refused for findings the design does not have
// and for items out of the reviewer's scope, and counted per entry.
func TestNotThisMark(t *testing.T) {
	t.Parallel()
	b := setup(t, review.Config{})
	designID, _ := b.design(b.acme, "trademark_possible", map[string]string{"DE": "review"})
	it := b.claim(b.alice, "")
	acmeReviewer := review.Reviewer{ID: "user:acme-mod", Role: store.RoleReviewer, TenantID: b.acme.ID}
	otherReviewer := review.Reviewer{ID: "user:other-mod", Role: store.RoleReviewer, TenantID: b.other.ID}
	tests := []struct {
		name         string
		r            review.Reviewer
		bank, entry  string
		wantErr      string // review.ErrorCode
		wantScope    string
		wantExisting bool
	}{
		{"platform reviewer: every tenant's copies", b.alice, "logos", "acme-logo", "", "all", false},
		{"again: the first correction", b.bob, "logos", "acme-logo", "", "all", true},
		{"the tenant's own reviewer: only the tenant's copies", acmeReviewer, "logos", "acme-logo", "", "tenant", false},
		{"a finding the design does not have", b.alice, "logos", "other-logo", "no_such_finding", "", false},
		{"no entry", b.alice, "logos", "", "invalid_finding", "", false},
		{"another tenant's reviewer", otherReviewer, "logos", "acme-logo", "not_found", "", false},
	}
	var first review.Correction
	for _, tt := range tests {
		before := time.Now().Add(-time.Second)
		c, err := b.svc.MarkFindingWrong(b.ctx, tt.r, it.ID, tt.bank, tt.entry, "a plain circle, not the Acme ring")
		if tt.wantErr != "" {
			if code := review.ErrorCode(err); code != tt.wantErr {
				t.Errorf("%s: error %v (%s), want %s", tt.name, err, code, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if c.Scope != tt.wantScope || c.Existing != tt.wantExisting || c.Bank != "logos" || c.EntryID != "acme-logo" || c.DesignID != designID ||
			c.FindingType != mustertype.FindingTrademark || c.Label != "Acme" || len(c.SHA256) != 64 || c.CreatedAt.Before(before) {
			t.Errorf("%s: correction %+v", tt.name, c)
		}
		if first.ID == 0 {
			first = c
		}
		if tt.wantExisting && (c.ID != first.ID || c.CreatedBy != b.alice.ID) {
			t.Errorf("%s: %+v, want the first correction %d by alice", tt.name, c, first.ID)
		}
	}
	rows, err := b.svc.Audit(b.ctx, b.alice, review.AuditFilter{Action: review.ActionFindingWrong})
	if err != nil || len(rows) != 2 || rows[1].Actor != b.alice.ID || rows[0].Actor != acmeReviewer.ID || rows[1].DesignID != designID {
		t.Fatalf("audit rows %+v %v", rows, err)
	}
	ctxt, err := b.svc.Context(b.ctx, b.alice, it.ID)
	if err != nil || len(ctxt.Corrections) != 2 {
		t.Fatalf("item context corrections %+v %v", ctxt.Corrections, err)
	}
	var n int
	if err := b.st.Pool().QueryRow(b.ctx, `SELECT count(*) FROM review_corrections WHERE bank = 'logos' AND entry_id = 'acme-logo'`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d corrections of logos/acme-logo %v", n, err)
	}
	// Withdrawing: the author, legal or admin; a tenant only its own.
	tenantC := ctxt.Corrections[1]
	platLegal := review.Reviewer{ID: "user:lena", Role: store.RoleLegal, TenantID: b.platform.ID, Platform: true}
	withdrawals := []struct {
		name    string
		r       review.Reviewer
		id      int64
		wantErr string
	}{
		{"another platform reviewer may not", b.bob, first.ID, "forbidden"},
		{"a tenant's reviewer cannot reach the platform's", acmeReviewer, first.ID, "not_found"},
		{"another tenant's reviewer cannot reach the tenant's", otherReviewer, tenantC.ID, "not_found"},
		{"the tenant's reviewer withdraws their own", acmeReviewer, tenantC.ID, ""},
		{"platform legal withdraws any", platLegal, first.ID, ""},
		{"gone", platLegal, first.ID, "not_found"},
	}
	for _, tt := range withdrawals {
		_, err := b.svc.WithdrawCorrection(b.ctx, tt.r, tt.id, "the ring is theirs after all")
		if code := review.ErrorCode(err); (tt.wantErr == "" && err != nil) || (tt.wantErr != "" && code != tt.wantErr) {
			t.Errorf("%s: %v (%s), want %q", tt.name, err, code, tt.wantErr)
		}
	}
	if err := b.st.Pool().QueryRow(b.ctx, `SELECT count(*) FROM review_corrections`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d corrections left after withdrawing both %v", n, err)
	}
	if rows, err := b.svc.Audit(b.ctx, b.alice, review.AuditFilter{Action: review.ActionCorrectionWithdrawn}); err != nil || len(rows) != 2 || rows[0].Actor != platLegal.ID {
		t.Fatalf("withdrawals audited: %+v %v", rows, err)
	}
}

// TestDesignAccess: views of a design are listed for its tenant (newest
// first, chained or not yet), for the platform, and for nobody else.
func TestDesignAccess(t *testing.T) {
	t.Parallel()
	b := setup(t, review.Config{})
	designID, _ := b.design(b.acme, "trademark_possible", map[string]string{"DE": "review"})
	it := b.claim(b.alice, "")
	if err := b.svc.LogView(b.ctx, b.alice.ID, b.acme.ID, designID, review.ViewItem, it.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := review.ChainAudit(b.ctx, b.st.Pool()); err != nil {
		t.Fatal(err)
	}
	if err := b.svc.LogView(b.ctx, b.bob.ID, b.acme.ID, designID, review.ViewImage, 0); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		tenant   string
		platform bool
		wantErr  error
	}{
		{"the design's tenant", b.acme.ID, false, nil},
		{"the platform", b.platform.ID, true, nil},
		{"another tenant", b.other.ID, false, review.ErrNotFound},
	}
	for _, tt := range tests {
		as, err := b.svc.DesignAccess(b.ctx, tt.tenant, tt.platform, designID, 0)
		if tt.wantErr != nil {
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("%s: %v, want %v", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || len(as) != 2 {
			t.Fatalf("%s: %+v %v", tt.name, as, err)
		}
		// newest first: bob's image view, not chained yet; alice's item view, chained
		if as[0].Actor != b.bob.ID || as[0].View != review.ViewImage || as[0].AuditID != 0 ||
			as[1].Actor != b.alice.ID || as[1].View != review.ViewItem || as[1].ItemID != it.ID || as[1].AuditID == 0 {
			t.Errorf("%s: %+v", tt.name, as)
		}
	}
	// Views are not review actions: the audit log lists them only on request.
	rows, err := b.svc.Audit(b.ctx, b.alice, review.AuditFilter{DesignID: designID})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Action == review.ActionDesignViewed {
			t.Fatalf("a view in the default audit listing: %+v", r)
		}
	}
	if rows, err := b.svc.Audit(b.ctx, b.alice, review.AuditFilter{Action: review.ActionDesignViewed}); err != nil || len(rows) != 2 {
		t.Fatalf("views by action: %d %v", len(rows), err)
	}
}

// TestNotThisMarkForText: word-mark and phrase findings of the text
// screener can be marked wrong too. A finding in the text read from the
// image is keyed by the design bytes (source ocr), one in the listing by
// the field's text (source listing); the bank analyzer reads neither, the
// text analyzers read their own, and every one counts as a misfire of its
// entry.
func TestNotThisMarkForText(t *testing.T) {
	t.Parallel()
	b := setup(t, review.Config{})
	sum := make([]byte, 32)
	_, _ = rand.Read(sum)
	sha := hex.EncodeToString(sum)
	title, tags := "Acme summer tee", []string{"retro", "acme"}
	d, _, err := b.st.InsertDesign(b.ctx, store.NewDesign{ID: uuid.NewString(), TenantID: b.acme.ID, SHA256: sha, Bytes: 100, Width: 10, Height: 10,
		MediaType: "image/png", Product: "tshirt", Markets: []string{"DE"}, Title: title, Tags: tags, Force: true})
	if err != nil {
		t.Fatal(err)
	}
	findings := []mustertype.Finding{
		{Type: mustertype.FindingTrademark, Analyzer: "ocr", Bank: "logos", EntryID: "acme-logo", Label: "Acme", Score: 0.9, Attrs: mustertype.Attrs{Match: "text", Field: "image", Text: "ACME"}},
		{Type: mustertype.FindingTrademark, Analyzer: "listing", Bank: "logos", EntryID: "acme-logo", Label: "Acme", Score: 0.9, Attrs: mustertype.Attrs{Match: "text", Field: "title", Text: "Acme"}},
		{Type: mustertype.FindingPhrase, Analyzer: "listing", Bank: "phrases", EntryID: "acme-slogan", Label: "acme", Score: 0.6, Attrs: mustertype.Attrs{Match: "text", Field: "tags", Text: "acme"}},
		{Type: mustertype.FindingNSFW, Analyzer: "nsfw", Score: 0.2},
	}
	if _, _, err := b.st.RecordResult(b.ctx, d.ID, nil, findings, decision("trademark_possible", map[string]string{"DE": "review"}), map[string]string{"ocr": "1"}); err != nil {
		t.Fatal(err)
	}
	it := b.claim(b.alice, "")
	tests := []struct {
		name       string
		target     review.Target
		wantErr    string
		wantSource string
		wantKey    string
	}{
		{"a word mark read from the image: keyed by the bytes", review.Target{Bank: "logos", EntryID: "acme-logo", Analyzer: "ocr"}, "", "ocr", sha},
		{"a word mark in the title: keyed by the title's text", review.Target{Bank: "logos", EntryID: "acme-logo", Analyzer: "listing", Field: "title"}, "", "listing",
			mustertype.ListingTextKey(title)},
		{"a phrase in the tags: keyed by the tags' text", review.Target{Bank: "phrases", EntryID: "acme-slogan", Analyzer: "listing", Field: "tags"}, "", "listing",
			mustertype.ListingTextKey("retro\nacme")},
		{"the same entry in another field the design does not have", review.Target{Bank: "logos", EntryID: "acme-logo", Analyzer: "listing", Field: "description"}, "no_such_finding", "", ""},
		{"a listing finding without its field", review.Target{Bank: "logos", EntryID: "acme-logo", Analyzer: "listing"}, "invalid_finding", "", ""},
		{"the bank analyzer found nothing here", review.Target{Bank: "logos", EntryID: "acme-logo"}, "no_such_finding", "", ""},
		{"another analyzer's findings", review.Target{Bank: "logos", EntryID: "acme-logo", Analyzer: "nsfw"}, "invalid_finding", "", ""},
	}
	for _, tt := range tests {
		c, err := b.svc.MarkWrong(b.ctx, b.alice, it.ID, tt.target, "the word, not the mark")
		if tt.wantErr != "" {
			if code := review.ErrorCode(err); code != tt.wantErr {
				t.Errorf("%s: error %v (%s), want %s", tt.name, err, code, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if c.Source != tt.wantSource || c.SHA256 != tt.wantKey || c.Field != map[string]string{"ocr": ""}[c.Source]+tt.target.Field || c.Scope != "all" {
			t.Errorf("%s: correction %+v, want source %s key %s", tt.name, c, tt.wantSource, tt.wantKey)
		}
	}
	// The readers: each source reads its own key only.
	bs := bank.NewStore(b.st.Pool(), nil)
	reads := []struct {
		name, source, key string
		want              []string
	}{
		{"the bank analyzer: nothing for these bytes", mustertype.CorrectionImage, sha, nil},
		{"the OCR: these bytes", mustertype.CorrectionOCR, sha, []string{"logos/acme-logo"}},
		{"the listing: the title's text", mustertype.CorrectionListing, mustertype.ListingTextKey(title), []string{"logos/acme-logo"}},
		{"the listing: the tags' text", mustertype.CorrectionListing, mustertype.ListingTextKey("retro\nacme"), []string{"phrases/acme-slogan"}},
		{"the listing: another title", mustertype.CorrectionListing, mustertype.ListingTextKey("Acme winter tee"), nil},
	}
	for _, tt := range reads {
		got, err := bs.CorrectedFor(b.ctx, tt.source, tt.key, b.acme.ID)
		if err != nil {
			t.Fatal(err)
		}
		if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, tt.want) {
			t.Errorf("%s: corrected %v, want %v", tt.name, keys, tt.want)
		}
	}
	if mis, err := bs.Misfires(b.ctx, "logos", nil); err != nil || mis["acme-logo"] != 2 {
		t.Errorf("misfires of logos/acme-logo: %v %v, want 2 (OCR and listing)", mis, err)
	}
	// The item page shows each correction beside its finding.
	ctxt, err := b.svc.Context(b.ctx, b.alice, it.ID)
	if err != nil || len(ctxt.Corrections) != 3 {
		t.Fatalf("item context corrections %+v %v", ctxt.Corrections, err)
	}
	for _, f := range findings[:3] {
		n := 0
		for _, c := range ctxt.Corrections {
			if c.Of(f) {
				n++
			}
		}
		if n != 1 || !review.Correctable(f) {
			t.Errorf("finding %s/%s of %s %s: %d corrections, correctable %v", f.Bank, f.EntryID, f.Analyzer, f.Attrs.Field, n, review.Correctable(f))
		}
	}
	if review.Correctable(findings[3]) {
		t.Error("an NSFW finding is correctable")
	}
}

// TestReviewerStats: decisions, blocks, handle time, skips, escalations and
// overturned appeals per reviewer, in the caller's tenant scope.
func TestReviewerStats(t *testing.T) {
	t.Parallel()
	b := setup(t, review.Config{})
	since := time.Now().Add(-time.Minute)
	for range 3 {
		b.design(b.acme, "trademark_possible", map[string]string{"DE": "review"})
	}
	b.design(b.other, "trademark_possible", map[string]string{"DE": "review"})
	// alice blocks one and allows one; bob skips one, then escalates it.
	var blocked string
	for _, o := range []string{"block", "allow"} {
		it := b.claim(b.alice, "")
		reason := map[string]string{"block": "trademark_infringement", "allow": "no_violation"}[o]
		res, err := b.svc.Decide(b.ctx, b.alice, it.ID, review.Decision{Markets: map[string]string{"DE": o}, Reason: reason})
		if err != nil {
			t.Fatal(err)
		}
		if o == "block" {
			blocked = res.Item.DesignID
		}
	}
	// The merchant appeals alice's block; bob overturns it.
	if _, err := b.svc.FileAppeal(b.ctx, b.acme.ID, blocked, "user:merchant", "not a trademark"); err != nil {
		t.Fatal(err)
	}
	ap := b.claim(b.bob, "appeals")
	if _, err := b.svc.Decide(b.ctx, b.bob, ap.ID, review.Decision{Appeal: review.AppealOverturn, Reason: "false_match"}); err != nil {
		t.Fatal(err)
	}
	it := b.claim(b.bob, "")
	if _, err := b.svc.Release(b.ctx, b.bob, it.ID, ""); err != nil {
		t.Fatal(err)
	}
	it = b.claim(b.bob, "")
	if _, err := b.svc.Escalate(b.ctx, b.bob, it.ID, "symbols", "looks like a symbol"); err != nil {
		t.Fatal(err)
	}
	byReviewer := func(r review.Reviewer) map[string]review.ReviewerStats {
		t.Helper()
		st, err := b.svc.Stats(b.ctx, r, since)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]review.ReviewerStats{}
		for _, s := range st {
			out[s.Reviewer] = s
		}
		return out
	}
	all := byReviewer(b.alice)
	if a := all[b.alice.ID]; a.Decided != 2 || a.Blocked != 1 || a.HandleP50 <= 0 || a.HandleP90 < a.HandleP50 || a.Skipped != 0 || a.Appealed != 1 || a.Overturned != 1 {
		t.Errorf("alice: %+v", a)
	}
	if bob := all[b.bob.ID]; bob.Decided != 1 || bob.Blocked != 0 || bob.Skipped != 1 || bob.Escalated != 1 || bob.Appealed != 0 {
		t.Errorf("bob: %+v", bob)
	}
	// Another tenant's reviewer sees only the work on their tenant's items:
	// bob skipped acme's item and escalated theirs (the next in line).
	otherReviewer := review.Reviewer{ID: "user:other-mod", Role: store.RoleReviewer, TenantID: b.other.ID}
	if got := byReviewer(otherReviewer); len(got) != 1 || got[b.bob.ID].Escalated != 1 || got[b.bob.ID].Skipped != 0 {
		t.Errorf("another tenant's reviewer sees %+v", got)
	}
	if _, err := b.svc.Stats(b.ctx, review.Reviewer{ID: "key:m", Role: store.RoleMerchant, TenantID: b.acme.ID}, since); !errors.Is(err, review.ErrForbidden) {
		t.Errorf("a merchant read the stats: %v", err)
	}
}
