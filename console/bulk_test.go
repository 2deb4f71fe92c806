package console_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/muster-dev/muster/console"
	"github.com/muster-dev/muster/mustertype"
	"github.com/muster-dev/muster/review"
	"github.com/muster-dev/muster/store"
)

// TestBulkDecision: a reviewer selects open items on the items page and
// decides them in one go — every market of each design blocked with one
// reason; the page says how many were decided and which were not, and why;
// a form without items or without an outcome is refused.
func TestBulkDecision(t *testing.T) {
	t.Parallel()
	b := setup(t, console.Config{})
	ctx := context.Background()
	// Items are opened by the review hook in the verdict's transaction.
	hooked := store.New(b.st.Pool(), store.WithVerdictHook(review.NewHook(review.Config{QARate: -1})))
	var ids []string
	var designs []string
	for i, markets := range [][]string{{"DE", "US"}, {"FR"}} {
		d, _, err := hooked.InsertDesign(ctx, store.NewDesign{ID: uuid.NewString(), TenantID: b.acme.ID, SHA256: fmt.Sprintf("%064x", i+1), Bytes: 10, Width: 1, Height: 1,
			MediaType: "image/png", Product: "tshirt", Markets: markets, Force: true})
		if err != nil {
			t.Fatal(err)
		}
		dec := mustertype.Decision{PolicyVersion: "test/1"}
		for _, m := range markets {
			dec.Markets = append(dec.Markets, mustertype.MarketVerdict{Market: m, Outcome: mustertype.Review,
				Reasons: []mustertype.Reason{{Code: "sexual_explicit_possible", Outcome: mustertype.Review}}})
		}
		if _, _, err := hooked.RecordResult(ctx, d.ID, nil, nil, dec, map[string]string{"t": "1"}); err != nil {
			t.Fatal(err)
		}
		var id int64
		if err := b.st.Pool().QueryRow(ctx, `SELECT id FROM review_items WHERE design_id = $1`, d.ID).Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids, designs = append(ids, fmt.Sprint(id)), append(designs, d.ID)
	}
	c := b.client()
	if resp := c.signin("reviewer@plat.example", pw); resp.StatusCode != 303 {
		t.Fatalf("sign in: %d", resp.StatusCode)
	}
	_, page := c.do("GET", "/console/review/items?state=open", nil, nil)
	for _, id := range ids {
		if !strings.Contains(page, `name="id" value="`+id+`" form="bulk"`) {
			t.Fatalf("item %s has no checkbox on the items page", id)
		}
	}
	tests := []struct {
		name   string
		form   url.Values
		status int
		want   string
	}{
		{"no items selected", url.Values{"every": {"block"}, "reason": {"sexual_content"}}, 400, "Select the items"},
		{"no outcome", url.Values{"id": ids, "reason": {"sexual_content"}}, 400, "Choose allow or block"},
		{"two items and one that is not there", url.Values{"id": append(ids, "999999"), "every": {"block"}, "reason": {"sexual_content"}, "note": {"spam wave"}}, 200,
			"2 items decided, 1 not"},
	}
	for _, tt := range tests {
		tt.form.Set("csrf", c.csrf)
		resp, body := c.do("POST", "/console/review/bulk", tt.form, nil)
		if resp.StatusCode != tt.status || !strings.Contains(body, tt.want) {
			t.Errorf("%s: %d, want %d with %q", tt.name, resp.StatusCode, tt.status, tt.want)
		}
	}
	for _, d := range designs {
		v, err := b.st.LatestVerdict(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if v.Outcome != mustertype.Block || v.Cause != mustertype.CauseReview || v.Actor != "user:reviewer@plat.example" {
			t.Errorf("design %s: %s by %s (%s)", d, v.Outcome, v.Actor, v.Cause)
		}
	}
}
