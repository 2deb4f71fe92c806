package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/muster-dev/muster/internal/pgtest"
	"github.com/muster-dev/muster/mustertype"
	"github.com/muster-dev/muster/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var (
	legal    = Actor{Name: "lena", Role: RoleLegal}
	admin    = Actor{Name: "adam", Role: RoleAdmin}
	reviewer = Actor{Name: "rita", Role: "reviewer"}
)

type dbSetup struct {
	pool  *pgxpool.Pool
	store *Store
	ctx   context.Context
}

func setupDB(t *testing.T) dbSetup {
	t.Helper()
	pool := pgtest.New(t)
	st := NewStore(pool, store.New(pool), Config{})
	ctx := context.Background()
	if err := st.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	return dbSetup{pool: pool, store: st, ctx: ctx}
}

// seedDesign stores a decided design with its findings and a verdict of the
// given decision, created age ago.
func (s dbSetup) seedDesign(t *testing.T, tenant string, n int, product string, markets []string, age time.Duration, findings []mustertype.Finding, dec *Compiled) string {
	t.Helper()
	id := fmt.Sprintf("00000000-0000-4000-8000-%012d", n)
	_, err := s.pool.Exec(s.ctx, `INSERT INTO designs (id, tenant_id, sha256, bytes, width, height, media_type, product, markets, status, created_at, decided_at)
		VALUES ($1, $2, $3, 100, 10, 10, 'image/png', $4, $5, 'decided', now() - $6::interval, now())`,
		id, tenant, strings.Repeat("a", 64), product, markets, fmt.Sprintf("%d seconds", int(age.Seconds())))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range findings {
		attrs, _ := json.Marshal(f.Attrs)
		if _, err := s.pool.Exec(s.ctx, `INSERT INTO findings (design_id, analyzer, type, bank, entry_id, label, score, attrs) VALUES ($1,'bank',$2,$3,$4,$5,$6,$7)`,
			id, f.Type, f.Bank, f.EntryID, f.Label, f.Score, attrs); err != nil {
			t.Fatal(err)
		}
	}
	d, err := dec.Decide(s.ctx, Input{DesignID: id, TenantID: tenant, Product: product, Markets: markets, Findings: findings})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(s.ctx, `INSERT INTO verdicts (design_id, tenant_id, outcome, policy_version, decision, versions) VALUES ($1,$2,$3,$4,$5,'{"analyzer:bank":"bank-test","bank:simple-icons":"7"}')`,
		id, tenant, d.Outcome(), d.PolicyVersion, d); err != nil {
		t.Fatal(err)
	}
	return id
}

func (s dbSetup) tenant(t *testing.T, name string) string {
	t.Helper()
	var id string
	if err := s.pool.QueryRow(s.ctx, `INSERT INTO tenants (name) VALUES ($1) RETURNING id::text`, name).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// seedHistory stores 12 designs of the last 30 days and 3 older ones.
func (s dbSetup) seedHistory(t *testing.T) (tenantA, tenantB string) {
	t.Helper()
	live, err := s.store.Compiled(s.ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	tenantA, tenantB = s.tenant(t, "acme-shop"), s.tenant(t, "other-shop")
	day := 24 * time.Hour
	n := 0
	next := func() int { n++; return n }
	for i := range 4 {
		s.seedDesign(t, tenantA, next(), "tshirt", []string{"US", "BR"}, time.Duration(i+1)*day, fs(usOnlyMark), live)
	}
	for i := range 3 {
		s.seedDesign(t, tenantB, next(), "tshirt", []string{"DE", "US"}, time.Duration(i+2)*day, fs(hakenkreuz45), live)
	}
	for i := range 2 {
		s.seedDesign(t, tenantB, next(), "mug", []string{"IN", "DE"}, time.Duration(i+3)*day, fs(religiousLeft), live)
	}
	for i := range 3 {
		s.seedDesign(t, tenantA, next(), "poster", []string{"DE"}, time.Duration(i+5)*day, nil, live)
	}
	for range 3 {
		s.seedDesign(t, tenantA, next(), "tshirt", []string{"US"}, 40*day, fs(usOnlyMark), live)
	}
	return tenantA, tenantB
}

// editedDraft raises the trademark block threshold (US marks at 0.95 go
// from block to review) and turns the terms review of Nazi symbols into a
// terms block (US hakenkreuz goes from review to block).
func editedDraft(t *testing.T) []byte {
	t.Helper()
	doc, err := DefaultDocument()
	if err != nil {
		t.Fatal(err)
	}
	doc.Params["trademark_block_score"] = json.RawMessage(`0.99`)
	for i := range doc.Rules {
		if doc.Rules[i].Name == "nazi_symbol_terms_review" {
			doc.Rules[i].Outcome = Block
		}
	}
	b, err := doc.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBacktestSeededHistory(t *testing.T) {
	t.Parallel()
	s := setupDB(t)
	s.seedHistory(t)
	if _, err := s.store.SaveDraft(s.ctx, legal, editedDraft(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.store.StartBacktest(s.ctx, reviewer, 30); !errors.Is(err, ErrForbidden) {
		t.Fatalf("reviewer backtest: got %v, want ErrForbidden", err)
	}
	id, err := s.store.StartBacktest(s.ctx, legal, 30)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.store.RunBacktest(s.ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := s.store.RunBacktest(s.ctx, id); !errors.Is(err, ErrConflict) {
		t.Fatalf("second run: got %v, want ErrConflict", err)
	}
	b, err := s.store.Backtest(s.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	r := b.Result
	if b.Status != BacktestDone || b.Done != 12 || b.Total != 12 || r == nil {
		t.Fatalf("backtest %+v", b)
	}
	if r.Designs != 12 || r.Changed != 7 {
		t.Errorf("designs %d changed %d, want 12 and 7", r.Designs, r.Changed)
	}
	want := map[string]struct {
		live, draft, changes map[string]int
	}{
		"US": {map[string]int{Block: 4, Review: 3}, map[string]int{Review: 4, Block: 3}, map[string]int{"block→review": 4, "review→block": 3}},
		"BR": {map[string]int{Allow: 4}, map[string]int{Allow: 4}, map[string]int{}},
		"DE": {map[string]int{Block: 3, Review: 2, Allow: 3}, map[string]int{Block: 3, Review: 2, Allow: 3}, map[string]int{}},
		"IN": {map[string]int{Allow: 2}, map[string]int{Allow: 2}, map[string]int{}},
	}
	if len(r.Markets) != len(want) {
		t.Errorf("markets %v", sortedKeys(r.Markets))
	}
	for m, w := range want {
		got := r.Markets[m]
		if got == nil {
			t.Errorf("%s missing", m)
			continue
		}
		if fmt.Sprint(got.Live) != fmt.Sprint(w.live) || fmt.Sprint(got.Draft) != fmt.Sprint(w.draft) || fmt.Sprint(got.Changes) != fmt.Sprint(w.changes) {
			t.Errorf("%s: live %v draft %v changes %v, want %v %v %v", m, got.Live, got.Draft, got.Changes, w.live, w.draft, w.changes)
		}
		for k, n := range w.changes {
			if len(got.Samples[k]) != n {
				t.Errorf("%s %s: %d samples, want %d", m, k, len(got.Samples[k]), n)
			}
		}
	}
	var out strings.Builder
	if err := WriteBacktest(&out, b); err != nil || !strings.Contains(out.String(), "block→review 4, review→block 3") {
		t.Errorf("rendered backtest:\n%s (err %v)", out.String(), err)
	}
}

func TestConcurrentPublishOneWins(t *testing.T) {
	t.Parallel()
	s := setupDB(t)
	d, err := s.store.SaveDraft(s.ctx, legal, editedDraft(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []Actor{reviewer, admin, {Name: "", Role: RoleLegal}} {
		if _, err := s.store.Publish(s.ctx, a, PublishRequest{Note: "x"}); !errors.Is(err, ErrForbidden) {
			t.Errorf("%+v publish: got %v, want ErrForbidden", a, err)
		}
	}
	if _, err := s.store.Publish(s.ctx, legal, PublishRequest{Note: "  "}); err == nil {
		t.Error("publish without a note succeeded")
	}
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = s.store.Publish(s.ctx, Actor{Name: fmt.Sprintf("legal-%d", i), Role: RoleLegal}, PublishRequest{Note: "raise trademark threshold", DraftRevision: d.Revision})
		}()
	}
	close(start)
	wg.Wait()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, ErrConflict):
			t.Errorf("unexpected error: %v", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d publishes won, want exactly 1: %v", wins, errs)
	}
	st, err := s.store.State(s.ctx)
	if err != nil {
		t.Fatal(err)
	}
	hist, err := s.store.History(s.ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if st.Live == nil || *st.Live != 2 || len(hist) != 2 {
		t.Fatalf("live %v, %d versions; want live 2 and 2 versions", fmtPtr(st.Live), len(hist))
	}
	// A stale revision conflicts too.
	if _, err := s.store.SaveDraft(s.ctx, legal, DefaultPack()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.store.Publish(s.ctx, legal, PublishRequest{Note: "stale", DraftRevision: d.Revision}); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale revision: got %v, want ErrConflict", err)
	}
	// Versions are immutable in the database.
	if _, err := s.pool.Exec(s.ctx, `UPDATE policy_versions SET note = 'x' WHERE version = 1`); err == nil {
		t.Fatal("updating a version succeeded")
	}
	// Roll back to 1: a new version 3 with version 1's content.
	v3, err := s.store.Rollback(s.ctx, legal, 1, 2, "roll back the threshold")
	if err != nil {
		t.Fatal(err)
	}
	v1, _ := s.store.Version(s.ctx, 1)
	if v3.Version != 3 || v3.SHA256 != v1.SHA256 || v3.CreatedAs != "rollback" {
		t.Fatalf("rollback made %+v", v3)
	}
	if _, err := s.store.Rollback(s.ctx, legal, 1, 2, "again"); !errors.Is(err, ErrConflict) {
		t.Fatalf("rollback with stale live: got %v, want ErrConflict", err)
	}
	audit, err := s.store.Audit(s.ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range audit {
		actions = append(actions, e.Action)
	}
	if got := strings.Join(actions, ","); got != "rollback,draft.save,publish,draft.save,seed" {
		t.Errorf("audit %s", got)
	}
}

func TestShadowDeciderAndRedecide(t *testing.T) {
	t.Parallel()
	s := setupDB(t)
	tenantA, tenantB := s.seedHistory(t)
	dec, err := NewDecider(s.ctx, s.store, DeciderConfig{PollInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	in := Input{DesignID: "x", Product: "tshirt", Markets: []string{"US"}, Findings: fs(usOnlyMark)}
	got, err := dec.Decide(s.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if got.PolicyVersion != "policy/1" || got.Shadow != nil || got.Markets[0].Outcome != Block {
		t.Fatalf("live decision %+v", got)
	}
	if _, err := s.store.SaveDraft(s.ctx, admin, editedDraft(t)); err != nil {
		t.Fatal(err)
	}
	sv, err := s.store.SetShadow(s.ctx, admin, "try the higher threshold")
	if err != nil {
		t.Fatal(err)
	}
	if err := dec.Reload(s.ctx); err != nil {
		t.Fatal(err)
	}
	got, err = dec.Decide(s.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if got.Markets[0].Outcome != Block || got.Shadow == nil || got.Shadow.PolicyVersion != sv.Name() || got.Shadow.Markets[0].Outcome != Review {
		t.Fatalf("shadow decision %+v", got)
	}
	pv, err := s.store.Publish(s.ctx, legal, PublishRequest{Note: "higher trademark threshold"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.store.ClearShadow(s.ctx, legal); err != nil {
		t.Fatal(err)
	}
	if err := dec.Reload(s.ctx); err != nil {
		t.Fatal(err)
	}
	if live, shadow := dec.Versions(); live != pv.Name() || shadow != "" {
		t.Fatalf("decider has %q/%q after publish, want %s and no shadow", live, shadow, pv.Name())
	}
	var notified []string
	rep, err := s.store.Redecide(s.ctx, legal, time.Now().Add(-30*24*time.Hour), func(_ context.Context, c Change) error {
		notified = append(notified, c.DesignID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Designs != 12 || rep.Rewritten != 12 || len(rep.Changed) != 7 || len(notified) != 7 {
		t.Fatalf("redecide: %d designs, %d rewritten, %d changed, %d notified; want 12, 12, 7, 7", rep.Designs, rep.Rewritten, len(rep.Changed), len(notified))
	}
	if fmt.Sprint(rep.Tenants) != fmt.Sprint(sortedKeys(map[string]bool{tenantA: true, tenantB: true})) {
		t.Errorf("tenants %v", rep.Tenants)
	}
	var n int
	if err := s.pool.QueryRow(s.ctx, `SELECT count(*) FROM verdicts WHERE cause = 'redecide' AND policy_version = $1`, pv.Name()).Scan(&n); err != nil || n != 12 {
		t.Errorf("%d redecide verdict rows (err %v), want 12", n, err)
	}
	// The analyses are reused, so their versions carry over; the policy's is the new one.
	if err := s.pool.QueryRow(s.ctx, `SELECT count(*) FROM verdicts WHERE cause = 'redecide' AND versions = jsonb_build_object(
		'analyzer:bank', 'bank-test', 'bank:simple-icons', '7', 'policy', $1::text)`, pv.Name()).Scan(&n); err != nil || n != 12 {
		t.Errorf("%d redecide verdicts carry the analyses' versions (err %v), want 12", n, err)
	}
	again, err := s.store.Redecide(s.ctx, legal, time.Now().Add(-30*24*time.Hour), nil)
	if err != nil || again.Rewritten != 0 || len(again.Changed) != 0 {
		t.Errorf("second redecide: %+v, %v; want nothing rewritten", again, err)
	}
}

func TestCommands(t *testing.T) {
	t.Parallel()
	s := setupDB(t)
	var out strings.Builder
	bad := []byte(strings.Replace(string(DefaultPack()), `"f.type == 'trademark' && f.allowlisted"`, `"f.type == 'trademark' && f.allowlisted > 1"`, 1))
	if err := CmdDraftEdit(s.ctx, s.store, legal, bad, &out); err == nil || !strings.Contains(out.String(), `error: rule "trademark_licensed": when:1:40: found no matching overload for '_>_' applied to '(bool, int)'`) {
		t.Fatalf("bad draft: err %v, output:\n%s", err, out.String())
	}
	out.Reset()
	if err := CmdDraftEdit(s.ctx, s.store, legal, editedDraft(t), &out); err != nil {
		t.Fatal(err)
	}
	if want := "draft saved: revision 2, based on version 1\n~ rule nazi_symbol_terms_review (outcome)\n~ param trademark_block_score\n"; out.String() != want {
		t.Errorf("draft edit output:\n%s\nwant:\n%s", out.String(), want)
	}
	out.Reset()
	if err := CmdValidate(s.ctx, s.store, nil, &out); err != nil || out.String() != "ok: 32 rules, 19 params\n" {
		t.Errorf("validate: %v %q", err, out.String())
	}
	out.Reset()
	if err := CmdPublish(s.ctx, s.store, legal, "raise trademark threshold", 0, &out); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := CmdHistory(s.ctx, s.store, 10, &out); err != nil || !strings.Contains(out.String(), "raise trademark threshold") || !strings.Contains(out.String(), "live") {
		t.Errorf("history: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := CmdDiff(s.ctx, s.store, "1", "2", &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `-      "outcome": "review",`) || !strings.Contains(out.String(), `+    "trademark_block_score": 0.99,`) {
		t.Errorf("diff:\n%s", out.String())
	}
	out.Reset()
	if err := CmdShow(s.ctx, s.store, "live", &out); err != nil || !strings.HasPrefix(out.String(), "# policy/2 (live") {
		t.Errorf("show: %v %.80q", err, out.String())
	}
}
