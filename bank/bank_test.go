package bank_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"

	"github.com/muster-dev/muster/analyzers"
	"github.com/muster-dev/muster/analyzers/banks"
	"github.com/muster-dev/muster/bank"
	"github.com/muster-dev/muster/bank/match"
	"github.com/muster-dev/muster/bank/symbols"
	"github.com/muster-dev/muster/internal/imaging"
	"github.com/muster-dev/muster/internal/natstest"
	"github.com/muster-dev/muster/internal/pgtest"
	"github.com/muster-dev/muster/mustertype"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type env struct {
	ctx    context.Context
	pool   *pgxpool.Pool
	nc     *nats.Conn
	store  *bank.Store
	tenant string
}

// setup gives a test its own migrated database, a NATS server, a store that
// announces changes, the seeded symbol bank and one tenant.
func setup(t *testing.T) *env {
	t.Helper()
	e := &env{ctx: context.Background(), pool: pgtest.New(t), nc: natstest.New(t)}
	e.store = bank.NewStore(e.pool, bank.NATSAnnouncer{Conn: e.nc})
	if err := e.pool.QueryRow(e.ctx, `INSERT INTO tenants (name) VALUES ('acme') RETURNING id::text`).Scan(&e.tenant); err != nil {
		t.Fatal(err)
	}
	if _, err := bank.SeedSymbols(e.ctx, e.store, match.Config{}, "test", nil); err != nil {
		t.Fatal(err)
	}
	return e
}

func loadSet(t *testing.T, e *env) *bank.Set {
	t.Helper()
	s, err := bank.NewSet(e.store, bank.SetConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Load(e.ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

func symbolByID(id string) symbols.Symbol {
	for _, s := range symbols.All() {
		if s.ID == id {
			return s
		}
	}
	panic(id)
}

// design draws a symbol (optionally mirrored) in colour on a plain canvas,
// optionally inside a white disc on a red field.
func design(s symbols.Symbol, mirrored, onFlag bool) *analyzers.Design {
	w := 1200
	if onFlag {
		w = 1500 // a flag's proportions
	}
	c := image.NewNRGBA(image.Rect(0, 0, w, 1000))
	bg := color.NRGBA{250, 245, 235, 255}
	if onFlag {
		bg = color.NRGBA{200, 20, 30, 255}
	}
	draw.Draw(c, c.Rect, image.NewUniform(bg), image.Point{}, draw.Src)
	if onFlag {
		for y := 0; y < 1000; y++ {
			for x := 0; x < w; x++ {
				if (x-600)*(x-600)+(y-500)*(y-500) < 330*330 {
					c.SetNRGBA(x, y, color.NRGBA{255, 255, 255, 255})
				}
			}
		}
	}
	m := s.Draw(520)
	for y := 0; y < 520; y++ {
		for x := 0; x < 520; x++ {
			sx := x
			if mirrored {
				sx = 519 - x
			}
			if a := m.NRGBAAt(sx, y).A; a > 0 {
				p := c.NRGBAAt(340+x, 240+y)
				f := float64(a) / 255
				mix := func(u uint8, v float64) uint8 { return uint8(float64(u)*(1-f) + v*f) }
				c.SetNRGBA(340+x, 240+y, color.NRGBA{mix(p.R, 10), mix(p.G, 10), mix(p.B, 10), 255})
			}
		}
	}
	return &analyzers.Design{ID: "d1", Image: &imaging.Image{NRGBA: c}}
}

func find(res analyzers.Result, id string) *mustertype.Finding {
	for i := range res.Findings {
		if res.Findings[i].EntryID == id {
			return &res.Findings[i]
		}
	}
	return nil
}

func TestStoreVersionsAuditAndDisable(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b, err := e.store.Bank(e.ctx, bank.SymbolsBank)
	if err != nil {
		t.Fatal(err)
	}
	if b.Version != 2 || b.Kind != bank.KindSymbol {
		t.Fatalf("after create and seed: %+v", b)
	}
	ch, err := e.store.DisableEntry(e.ctx, bank.SymbolsBank, "red-star", nil, "false positives on stickers", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if ch.Version != 3 || len(ch.EntryIDs) != 1 {
		t.Fatalf("disable change %+v", ch)
	}
	ent, _ := e.store.Entry(e.ctx, bank.SymbolsBank, "red-star")
	if ent.Active(time.Now()) {
		t.Fatal("disabled entry is active")
	}
	past := time.Now().Add(-time.Minute)
	if _, err := e.store.DisableEntry(e.ctx, bank.SymbolsBank, "red-star", &past, "until a minute ago", "alice"); err != nil {
		t.Fatal(err)
	}
	ent, _ = e.store.Entry(e.ctx, bank.SymbolsBank, "red-star")
	if !ent.Active(time.Now()) {
		t.Fatal("entry disabled until a past time should be active")
	}
	if _, err := e.store.DeleteEntry(e.ctx, bank.SymbolsBank, "z-symbol", "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Entry(e.ctx, bank.SymbolsBank, "z-symbol"); err == nil {
		t.Fatal("deleted entry still there")
	}
	audit, err := e.store.Audit(e.ctx, bank.SymbolsBank, 0)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, a := range audit {
		actions = append(actions, a.Action)
	}
	want := []string{"create_bank"}
	for range symbols.All() {
		want = append(want, "add")
	}
	want = append(want, "disable", "disable", "delete")
	if len(actions) != len(want) {
		t.Fatalf("audit actions %v, want %v", actions, want)
	}
	for i := range want {
		if actions[i] != want[i] {
			t.Fatalf("audit actions %v, want %v", actions, want)
		}
	}
	last := audit[len(audit)-1]
	if last.Actor != "bob" || last.Version != 5 || last.EntryID != "z-symbol" {
		t.Fatalf("last audit row %+v", last)
	}
	if _, err := e.store.SetThreshold(e.ctx, bank.SymbolsBank, 1.5, "x"); err == nil {
		t.Fatal("threshold 1.5 accepted")
	}
	if _, err := e.store.PutEntries(e.ctx, bank.SymbolsBank, []bank.Entry{{ID: "Bad ID", Label: "x", Prepared: []byte("x")}}, "x"); err == nil {
		t.Fatal("bad id accepted")
	}
	if _, err := e.store.DisableEntry(e.ctx, "nope", "x", nil, "", "x"); err == nil {
		t.Fatal("unknown bank accepted")
	}
}

func TestAnalyzerSymbolFormsAndAllowList(t *testing.T) {
	t.Parallel()
	e := setup(t)
	set := loadSet(t, e)
	now := time.Now()
	an := banks.New(set, banks.Config{Now: func() time.Time { return now }})
	tests := []struct {
		name, symbol, entry  string
		mirrored, onFlag     bool
		orientation, context string
		tilt                 float64
	}{
		{name: "hakenkreuz 45° on a disc on a flag", symbol: "hakenkreuz-45", entry: "hakenkreuz-45", onFlag: true, orientation: symbols.Clockwise, tilt: 45, context: "disc_on_flag"},
		{name: "mirrored hakenkreuz is counterclockwise", symbol: "hakenkreuz-45", entry: "hakenkreuz-45", mirrored: true, orientation: symbols.Counterclockwise, tilt: 45, context: "none"},
		{name: "religious 卍", symbol: "swastika-religious-left", entry: "swastika-religious-left", orientation: symbols.Counterclockwise, tilt: 0, context: "none"},
		{name: "ss runes", symbol: "ss-runes", entry: "ss-runes", context: "none"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := design(symbolByID(tc.symbol), tc.mirrored, tc.onFlag)
			d.TenantID = e.tenant
			res, err := an.Analyze(e.ctx, d)
			if err != nil {
				t.Fatal(err)
			}
			if res.Versions["bank:symbols"] == "" {
				t.Errorf("versions %v lack bank:symbols", res.Versions)
			}
			f := find(res, tc.entry)
			if f == nil {
				t.Fatalf("%s not found in %+v", tc.entry, res.Findings)
			}
			if f.Type != mustertype.FindingSymbol || f.Bank != bank.SymbolsBank || f.Distance == nil || f.Box == nil {
				t.Fatalf("finding %+v", f)
			}
			form := f.Attrs.Form
			if form == nil {
				t.Fatalf("symbol finding without a form: %+v", f)
			}
			if tc.orientation != "" && form.Orientation != tc.orientation {
				t.Errorf("orientation %v, want %s", form.Orientation, tc.orientation)
			}
			if tilt := form.TiltDeg; tilt < tc.tilt-4 || tilt > tc.tilt+4 {
				if !(tc.tilt == 45 && tilt <= -41) { // ±45° are the same swastika tilt
					t.Errorf("tilt %v, want %v", tilt, tc.tilt)
				}
			}
			if form.Context != tc.context {
				t.Errorf("context %v, want %s", form.Context, tc.context)
			}
			if f.Attrs.Allowlisted {
				t.Errorf("allowlisted without an allow-list entry")
			}
		})
	}

	// Allow the tenant to use the SS runes (say, a history publisher), then
	// let the allowance expire.
	ch, err := e.store.Allow(e.ctx, bank.Allow{Bank: bank.SymbolsBank, EntryID: "ss-runes", TenantID: e.tenant, Evidence: "museum licence 42"}, "legal")
	if err != nil {
		t.Fatal(err)
	}
	if err := set.Apply(e.ctx, ch); err != nil {
		t.Fatal(err)
	}
	d := design(symbolByID("ss-runes"), false, false)
	d.TenantID = e.tenant
	res, _ := an.Analyze(e.ctx, d)
	if f := find(res, "ss-runes"); f == nil || !f.Attrs.Allowlisted {
		t.Fatalf("allow-listed tenant: %+v", f)
	}
	d.TenantID = "00000000-0000-0000-0000-000000000001"
	res, _ = an.Analyze(e.ctx, d)
	if f := find(res, "ss-runes"); f == nil || f.Attrs.Allowlisted {
		t.Fatalf("other tenant: %+v", f)
	}
	past := now.Add(-time.Hour)
	ch, err = e.store.Allow(e.ctx, bank.Allow{Bank: bank.SymbolsBank, EntryID: "ss-runes", TenantID: e.tenant, Evidence: "expired licence", ExpiresAt: &past}, "legal")
	if err != nil {
		t.Fatal(err)
	}
	if err := set.Apply(e.ctx, ch); err != nil {
		t.Fatal(err)
	}
	d.TenantID = e.tenant
	res, _ = an.Analyze(e.ctx, d)
	if f := find(res, "ss-runes"); f == nil || f.Attrs.Allowlisted {
		t.Fatalf("expired allowance still allows: %+v", f)
	}
	// A disabled entry is not reported.
	ch, _ = e.store.DisableEntry(e.ctx, bank.SymbolsBank, "ss-runes", nil, "", "legal")
	_ = set.Apply(e.ctx, ch)
	res, _ = an.Analyze(e.ctx, d)
	if f := find(res, "ss-runes"); f != nil {
		t.Fatalf("disabled entry reported: %+v", f)
	}
}

func TestIncrementalUpdatesOverNATS(t *testing.T) {
	t.Parallel()
	e := setup(t)
	if _, err := e.store.CreateBank(e.ctx, bank.Bank{Name: "acme-marks", Kind: bank.KindCustom}, "test"); err != nil {
		t.Fatal(err)
	}
	// Two workers, each with its own set, watching the subject.
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	w1, w2 := loadSet(t, e), loadSet(t, e)
	for _, w := range []*bank.Set{w1, w2} {
		if err := w.Watch(ctx, e.nc); err != nil {
			t.Fatal(err)
		}
	}
	// A custom mark: the sonnenrad's shape would be found by the symbol bank,
	// so use a new shape — a ring with a bar.
	mark := image.NewNRGBA(image.Rect(0, 0, 300, 300))
	for y := 0; y < 300; y++ {
		for x := 0; x < 300; x++ {
			d := (x-150)*(x-150) + (y-150)*(y-150)
			if (d < 140*140 && d > 100*100) || (x > 60 && x < 240 && y > 135 && y < 165) || (x > 135 && x < 165 && y > 60 && y < 150) {
				mark.SetNRGBA(x, y, color.NRGBA{0, 0, 0, 255})
			}
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, mark)
	ch, err := bank.AddImage(e.ctx, e.store, "acme-marks", bank.AddRequest{
		Entry: bank.Entry{ID: "acme-ring", Label: "ACME ring", Owner: "ACME Corp", Jurisdictions: []string{"DE", "EU", "WIPO:CH,NO"}, Classes: []int{25}, Famous: true, WordMarks: []string{"ACME"}},
		Image: buf.Bytes(),
	}, match.Config{}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	waitVersion := func(w *bank.Set, v int64) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for w.Versions()["acme-marks"] < v {
			if time.Now().After(deadline) {
				t.Fatalf("worker still at version %d, want %d", w.Versions()["acme-marks"], v)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitVersion(w1, ch.Version)
	waitVersion(w2, ch.Version)
	ent, ok := w2.Entry("acme-marks", "acme-ring")
	if !ok || ent.Owner != "ACME Corp" {
		t.Fatalf("worker 2 entry %+v %v", ent, ok)
	}
	// The worker's analyzer finds it at once, recoloured inside a design.
	c := image.NewNRGBA(image.Rect(0, 0, 1000, 1000))
	draw.Draw(c, c.Rect, image.NewUniform(color.NRGBA{30, 60, 30, 255}), image.Point{}, draw.Src)
	for y := 0; y < 300; y++ {
		for x := 0; x < 300; x++ {
			if mark.NRGBAAt(x, y).A > 0 {
				c.SetNRGBA(500+x, 400+y, color.NRGBA{240, 230, 90, 255})
			}
		}
	}
	res, err := banks.New(w1, banks.Config{}).Analyze(e.ctx, &analyzers.Design{Image: &imaging.Image{NRGBA: c}})
	if err != nil {
		t.Fatal(err)
	}
	f := find(res, "acme-ring")
	if f == nil || f.Type != mustertype.FindingCustom || !f.Attrs.Famous || f.Attrs.Owner != "ACME Corp" {
		t.Fatalf("custom finding %+v in %+v", f, res.Findings)
	}
	if f.Box.X < 480 || f.Box.X > 520 {
		t.Errorf("box %+v not on the mark at x=500", f.Box)
	}
	// A missed announcement: worker 1 stops watching; two changes happen;
	// the next announcement it sees makes it catch up from the audit trail.
	w3 := loadSet(t, e)
	if _, err := e.store.DeleteEntry(e.ctx, "acme-marks", "acme-ring", "bob"); err != nil {
		t.Fatal(err)
	}
	ch2, err := e.store.SetThreshold(e.ctx, "acme-marks", 0.9, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if err := w3.Apply(e.ctx, ch2); err != nil {
		t.Fatal(err)
	}
	if _, ok := w3.Entry("acme-marks", "acme-ring"); ok {
		t.Fatal("worker that missed the delete still has the entry after catching up")
	}
	waitVersion(w1, ch2.Version)
	if _, ok := w1.Entry("acme-marks", "acme-ring"); ok {
		t.Fatal("watching worker still has the deleted entry")
	}
}

func TestImportCSV(t *testing.T) {
	t.Parallel()
	e := setup(t)
	csv := "id,owner,jurisdictions,classes,famous,word_marks\nred-star,,HU;LT;UA,25;16,false,\nz-symbol,,UA;LT;MD,,,Z\n"
	ch, err := bank.ImportCSV(e.ctx, e.store, bank.SymbolsBank, bytes.NewBufferString(csv), "legal")
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.EntryIDs) != 2 {
		t.Fatalf("change %+v", ch)
	}
	z, _ := e.store.Entry(e.ctx, bank.SymbolsBank, "z-symbol")
	if len(z.Jurisdictions) != 3 || z.Jurisdictions[2] != "MD" || len(z.WordMarks) != 1 || len(z.Prepared) == 0 {
		t.Fatalf("z-symbol after CSV %+v", z)
	}
	if _, err := bank.ImportCSV(e.ctx, e.store, bank.SymbolsBank, bytes.NewBufferString("id,classes\nred-star,99\n"), "legal"); err == nil {
		t.Fatal("class 99 accepted")
	}
	if _, err := bank.ImportCSV(e.ctx, e.store, bank.SymbolsBank, bytes.NewBufferString("id\nnope\n"), "legal"); err == nil {
		t.Fatal("unknown entry accepted")
	}
}

// TestStaleEncodingPreparedAgain: an entry prepared by an earlier algorithm
// version loads (prepared again from its reference image) and the new form
// is written back, without a new bank version.
func TestStaleEncodingPreparedAgain(t *testing.T) {
	t.Parallel()
	e := setup(t)
	before, err := e.store.Bank(e.ctx, bank.SymbolsBank)
	if err != nil {
		t.Fatal(err)
	}
	tag, err := e.pool.Exec(e.ctx, `UPDATE bank_entries SET prepared = $2, algorithm = 'match-0' WHERE bank = $1 AND id = 'z-symbol'`,
		bank.SymbolsBank, []byte("MUSTER-MATCH-0\nstale"))
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("make the entry stale: %v (%d rows)", err, tag.RowsAffected())
	}
	set := loadSet(t, e)
	an := banks.New(set, banks.Config{})
	d := design(symbolByID("z-symbol"), false, false)
	d.TenantID = e.tenant
	res, err := an.Analyze(e.ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if find(res, "z-symbol") == nil {
		t.Fatalf("z-symbol not found after its stale form was prepared again: %+v", res.Findings)
	}
	got, err := e.store.Entry(e.ctx, bank.SymbolsBank, "z-symbol")
	if err != nil {
		t.Fatal(err)
	}
	var p match.Prepared
	if err := p.UnmarshalBinary(got.Prepared); err != nil {
		t.Fatalf("stored form not rewritten: %v", err)
	}
	if got.Algorithm != match.Version {
		t.Fatalf("algorithm = %q, want %q", got.Algorithm, match.Version)
	}
	after, err := e.store.Bank(e.ctx, bank.SymbolsBank)
	if err != nil {
		t.Fatal(err)
	}
	if after.Version != before.Version {
		t.Fatalf("bank version %d → %d: preparing again is not a content change", before.Version, after.Version)
	}
}

// TestCatchUpWithoutAnnouncement: a change made with no NATS announcement
// (a CLI that could not reach NATS, a lost message) reaches a watching set
// at its next catch-up.
func TestCatchUpWithoutAnnouncement(t *testing.T) {
	t.Parallel()
	e := setup(t)
	quiet := bank.NewStore(e.pool, nil) // announces nothing
	if _, err := quiet.CreateBank(e.ctx, bank.Bank{Name: "quiet-marks", Kind: bank.KindCustom}, "test"); err != nil {
		t.Fatal(err)
	}
	w, err := bank.NewSet(e.store, bank.SetConfig{CatchUpEvery: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Load(e.ctx); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	if err := w.Watch(ctx, e.nc); err != nil {
		t.Fatal(err)
	}
	mark := image.NewNRGBA(image.Rect(0, 0, 200, 200))
	for y := 40; y < 160; y++ {
		for x := 40; x < 160; x++ {
			if (x-100)*(x-100)+(y-100)*(y-100) < 60*60 && x < 120 {
				mark.SetNRGBA(x, y, color.NRGBA{0, 0, 0, 255})
			}
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, mark)
	ch, err := bank.AddImage(e.ctx, quiet, "quiet-marks", bank.AddRequest{Entry: bank.Entry{ID: "half-moon", Label: "Half moon"}, Image: buf.Bytes()}, match.Config{}, "test")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, ok := w.Entry("quiet-marks", "half-moon"); ok && w.Versions()["quiet-marks"] >= ch.Version {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("an unannounced entry never reached the watching set (version %d, want %d)", w.Versions()["quiet-marks"], ch.Version)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCorrectionsSuppressTheEntryForTheSameBytes: a reviewer's "not this
// mark" (a review_corrections row, written by the review package) stops the
// analyzer raising that entry for the same design bytes — other entries
// still found, other bytes still raise it, a tenant's own correction only
// counts for that tenant — and unreadable corrections drop nothing.
func TestCorrectionsSuppressTheEntryForTheSameBytes(t *testing.T) {
	t.Parallel()
	e := setup(t)
	set := loadSet(t, e)
	an := banks.New(set, banks.Config{})
	var other string
	if err := e.pool.QueryRow(e.ctx, `INSERT INTO tenants (name) VALUES ('other') RETURNING id::text`).Scan(&other); err != nil {
		t.Fatal(err)
	}
	same, different := strings.Repeat("a", 64), strings.Repeat("b", 64)
	correct := func(sha, entry string, scope *string) {
		t.Helper()
		if _, err := e.pool.Exec(e.ctx, `INSERT INTO review_corrections (sha256, bank, entry_id, scope_tenant, tenant_id, design_id, finding_type, created_by)
			VALUES ($1, $2, $3, $4, $5, gen_random_uuid(), 'symbol', 'user:alice')`, sha, bank.SymbolsBank, entry, scope, e.tenant); err != nil {
			t.Fatal(err)
		}
	}
	// The design shows the SS runes and a Celtic cross: two entries.
	const a, b = "ss-runes", "celtic-cross"
	correct(same, b, nil)         // a platform reviewer: every tenant
	correct(different, a, &other) // other's own reviewer: only other
	tests := []struct {
		name, sha, tenant string
		want, notWant     []string
	}{
		{"same bytes: the corrected entry is gone, the other stays", same, e.tenant, []string{a}, []string{b}},
		{"same bytes, another tenant: a platform correction counts", same, other, []string{a}, []string{b}},
		{"different bytes: both raised", strings.Repeat("c", 64), e.tenant, []string{a, b}, nil},
		{"a tenant's own correction does not count for another tenant", different, e.tenant, []string{a, b}, nil},
		{"a tenant's own correction counts for that tenant", different, other, []string{b}, []string{a}},
	}
	for _, tc := range tests {
		d := twoSymbols(symbolByID(a), symbolByID(b))
		d.SHA256, d.TenantID = tc.sha, tc.tenant
		res, err := an.Analyze(e.ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range tc.want {
			if find(res, id) == nil {
				t.Errorf("%s: %s not found in %+v", tc.name, id, res.Findings)
			}
		}
		for _, id := range tc.notWant {
			if find(res, id) != nil {
				t.Errorf("%s: corrected %s still raised", tc.name, id)
			}
			if sum := res.Data.(banks.Summary); !slices.Contains(sum.Corrected, bank.SymbolsBank+"/"+id) {
				t.Errorf("%s: summary's corrected %v lacks %s", tc.name, sum.Corrected, id)
			}
		}
	}
	m, err := e.store.Misfires(e.ctx, bank.SymbolsBank, nil)
	if err != nil || m[a] != 1 || m[b] != 1 || len(m) != 2 {
		t.Fatalf("misfires %v %v", m, err)
	}
	// Corrections unreadable: every match is reported (fail closed).
	if _, err := e.pool.Exec(e.ctx, `ALTER TABLE review_corrections RENAME TO review_corrections_gone`); err != nil {
		t.Fatal(err)
	}
	d := twoSymbols(symbolByID(a), symbolByID(b))
	d.SHA256, d.TenantID = same, e.tenant
	res, err := an.Analyze(e.ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if find(res, a) == nil || find(res, b) == nil || res.Data.(banks.Summary).CorrectionsError == "" {
		t.Fatalf("unreadable corrections dropped findings: %+v %+v", res.Findings, res.Data)
	}
}

// twoSymbols draws two symbols side by side on a plain canvas.
func twoSymbols(a, b symbols.Symbol) *analyzers.Design {
	c := image.NewNRGBA(image.Rect(0, 0, 1400, 700))
	draw.Draw(c, c.Rect, image.NewUniform(color.NRGBA{250, 245, 235, 255}), image.Point{}, draw.Src)
	for i, s := range []symbols.Symbol{a, b} {
		m := s.Draw(520)
		for y := 0; y < 520; y++ {
			for x := 0; x < 520; x++ {
				if al := m.NRGBAAt(x, y).A; al > 0 {
					f := float64(al) / 255
					v := uint8(250*(1-f) + 10*f)
					c.SetNRGBA(90+i*700+x, 90+y, color.NRGBA{v, v, v, 255})
				}
			}
		}
	}
	return &analyzers.Design{ID: "d2", Image: &imaging.Image{NRGBA: c}}
}
