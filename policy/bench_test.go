package policy

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/muster-dev/muster/internal/pgtest"
	"github.com/muster-dev/muster/mustertype"
	"github.com/muster-dev/muster/store"
)

// benchMarkets are 30 markets: the ones the pack names and large others.
var benchMarkets = []string{"DE", "AT", "FR", "PL", "HU", "CZ", "LT", "LV", "EE", "IT", "ES", "NL", "SE", "EU",
	"UA", "MD", "RU", "ID", "BR", "AU", "US", "GB", "CA", "IN", "JP", "SA", "AE", "TR", "MX", "CH"}

func benchInput() Input {
	nsfw, _ := json.Marshal(map[string]any{"model": "nsfwjs", "model_version": "1",
		"categories": map[string]float64{"sexual_explicit": 0.1, "sexual_suggestive": 0.3, "drawing": 0.2}})
	return Input{TenantID: "t", DesignID: "d", Product: "tshirt", Markets: benchMarkets,
		Analyses: map[string]json.RawMessage{"nsfw": nsfw},
		Findings: []mustertype.Finding{usOnlyMark, famousMark, religiousLeft, hammerSickle}}
}

// BenchmarkDecide30Markets measures decisions of the default pack for one
// design with four findings over 30 markets (one decision = all markets).
func BenchmarkDecide30Markets(b *testing.B) {
	doc, err := DefaultDocument()
	if err != nil {
		b.Fatal(err)
	}
	c, err := Compile(doc, "bench", Config{})
	if err != nil {
		b.Fatal(err)
	}
	in := benchInput()
	ctx := context.Background()
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		if _, err := c.Decide(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "decisions/s")
}

// BenchmarkBacktestRate seeds 2,000 stored designs (with findings and an
// nsfw analysis) and measures a backtest of the default pack against itself
// (each design evaluated under both versions, 2 markets each).
func BenchmarkBacktestRate(b *testing.B) {
	pool := pgtest.New(b)
	st := NewStore(pool, store.New(pool), Config{})
	ctx := context.Background()
	if err := st.Bootstrap(ctx); err != nil {
		b.Fatal(err)
	}
	const n = 2000
	_, err := pool.Exec(ctx, `
		INSERT INTO tenants (id, name) VALUES ('00000000-0000-4000-8000-000000000001', 'bench');
		INSERT INTO designs (id, tenant_id, sha256, bytes, width, height, media_type, product, markets, status, created_at)
		SELECT ('00000000-0000-4000-9000-' || lpad(i::text, 12, '0'))::uuid, '00000000-0000-4000-8000-000000000001',
		       repeat('a', 64), 1, 1, 1, 'image/png', (ARRAY['tshirt','mug','poster'])[1 + i % 3], ARRAY['DE','US'], 'decided',
		       now() - (i % 20) * interval '1 day'
		FROM generate_series(1, 2000) i;
		INSERT INTO analyses (design_id, analyzer, version, result, duration_ms)
		SELECT id, 'nsfw', '1', '{"categories":{"sexual_explicit":0.1,"sexual_suggestive":0.2}}', 1 FROM designs;
		INSERT INTO findings (design_id, analyzer, type, bank, entry_id, label, score, attrs)
		SELECT id, 'bank', 'trademark', 'simple-icons', 'acme', 'acme', 0.95, '{"jurisdictions":["US","EU"],"classes":[25],"famous":false}' FROM designs;
		INSERT INTO findings (design_id, analyzer, type, bank, entry_id, label, score, attrs)
		SELECT id, 'bank', 'symbol', 'symbols', 'hakenkreuz-45', 'hk', 0.9, '{"symbol":"swastika","form":{"tilt_deg":45}}' FROM designs WHERE right(id::text, 1) IN ('1','5');`)
	if err != nil {
		b.Fatal(err)
	}
	a := Actor{Name: "bench", Role: RoleLegal}
	start := time.Now()
	designs := 0
	for b.Loop() {
		id, err := st.StartBacktest(ctx, a, 30)
		if err != nil {
			b.Fatal(err)
		}
		if err := st.RunBacktest(ctx, id); err != nil {
			b.Fatal(err)
		}
		bt, err := st.Backtest(ctx, id)
		if err != nil || bt.Result == nil || bt.Result.Designs != n {
			b.Fatalf("backtest %+v %v", bt, err)
		}
		designs += bt.Result.Designs
	}
	b.ReportMetric(float64(designs)/time.Since(start).Seconds(), "designs/s")
}
