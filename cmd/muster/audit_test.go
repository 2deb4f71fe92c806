package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/muster-dev/muster/mustertype"
	"github.com/muster-dev/muster/review"
	"github.com/muster-dev/muster/store"
)

func TestAuditVerifyReportsTheFirstBrokenRow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	out, _, err := b.run("audit", "verify")
	if err != nil || !strings.Contains(out, "ok, 0 rows") {
		t.Fatalf("empty chain: %q %v", out, err)
	}
	pool, err := pgxpool.New(ctx, b.env["MUSTER_DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	st := store.New(pool, store.WithVerdictHook(review.NewHook(review.Config{QARate: -1})))
	svc := review.New(st, nil, nil, review.Config{})
	ten, _, _ := st.CreatePlatformTenant(ctx, "p", "")
	for i := range 3 {
		d, _, err := st.InsertDesign(ctx, store.NewDesign{ID: uuid.NewString(), TenantID: ten.ID, SHA256: strings.Repeat(string(rune('a'+i)), 64), Bytes: 1, Width: 1, Height: 1,
			MediaType: "image/png", Product: "tshirt", Markets: []string{"DE"}, Force: true})
		if err != nil {
			t.Fatal(err)
		}
		dec := mustertype.Decision{PolicyVersion: "1", Markets: []mustertype.MarketVerdict{{Market: "DE", Outcome: "review", Reasons: []mustertype.Reason{{Code: "trademark_possible", Outcome: "review"}}}}}
		if _, _, err := st.RecordResult(ctx, d.ID, nil, nil, dec, map[string]string{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.Claim(ctx, review.Reviewer{ID: "user:a", Role: store.RoleReviewer, TenantID: ten.ID, Platform: true}, ""); err != nil {
		t.Fatal(err)
	}
	out, _, err = b.run("audit", "verify")
	if err != nil || !strings.Contains(out, "ok, 4 rows") || !strings.Contains(out, "event log: ok") {
		t.Fatalf("intact chain: %q %v", out, err)
	}
	if _, err := pool.Exec(ctx, `ALTER TABLE review_audit DISABLE TRIGGER review_audit_no_change;
		UPDATE review_audit SET actor = 'mallory' WHERE id = 2;
		ALTER TABLE review_audit ENABLE TRIGGER review_audit_no_change`); err != nil {
		t.Fatal(err)
	}
	out, _, err = b.run("audit", "verify")
	if !errors.Is(err, ErrAuditBroken) || !strings.Contains(out, "BROKEN at row 2") || !strings.Contains(out, "event log: ok") {
		t.Fatalf("tampered chain: %q %v", out, err)
	}
	// the event log's chain: the 3 designs' submitted and verdict events
	// (and any other) are chained; deleting one is reported
	if _, err := pool.Exec(ctx, `ALTER TABLE events DISABLE TRIGGER events_no_change;
		DELETE FROM events WHERE chain_id = 2;
		ALTER TABLE events ENABLE TRIGGER events_no_change`); err != nil {
		t.Fatal(err)
	}
	out, _, err = b.run("audit", "verify")
	if !errors.Is(err, ErrEventsBroken) || !errors.Is(err, store.ErrEventChainBroken) || !strings.Contains(out, "event log: BROKEN at chain row 2") {
		t.Fatalf("tampered event log: %q %v", out, err)
	}
}
