package policy

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
)

// TestMatrixDefaultPack: the matrix of the default pack says what
// docs/policy.md says, cell by cell, and names the deciding rule.
func TestMatrixDefaultPack(t *testing.T) {
	t.Parallel()
	s := setup(t)
	mx, err := s.compiled.Matrix(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"DE", "US", "SA", "LT", "EU", "IN"} {
		if !slices.Contains(mx.Markets, m) {
			t.Fatalf("markets %v lack %s", mx.Markets, m)
		}
	}
	tests := []struct {
		market, category, outcome, rule string
	}{
		{"DE", "symbols", Block, "nazi_symbol_block"},
		{"US", "symbols", Review, "nazi_symbol_terms_review"},
		{"LT", "symbols", Block, "nazi_symbol_block"},
		{"US", "trademarks", Block, "trademark_block"},
		{"US", "sexual", Block, "sexual_explicit_block"},
		{"SA", "sexual", Block, "sexual_content_strict_block"},
		{"DE", "text", Block, "banned_slogan_block"},
		{"US", "text", Review, "hate_phrase_review"},
	}
	for _, tt := range tests {
		c := mx.Cells[tt.market][tt.category]
		if c.Outcome != tt.outcome || c.Rule != tt.rule {
			t.Errorf("%s %s: %s by %s, want %s by %s (%+v)", tt.market, tt.category, c.Outcome, c.Rule, tt.outcome, tt.rule, c.Probes)
		}
	}
	if n := len(mx.Cells["DE"]["symbols"].Probes); n != 3 {
		t.Errorf("DE symbols: %d probes", n)
	}
}

// TestPublishWithSecondApprover: a request waits; the requester cannot
// approve it; nobody can publish past it; another legal user approves and
// the version records both; an edit after the request makes approval fail;
// a rejection needs a note; the requester may withdraw.
func TestPublishWithSecondApprover(t *testing.T) {
	t.Parallel()
	s := setupDB(t)
	lara := Actor{Name: "lara", Role: RoleLegal}
	d, err := s.store.SaveDraft(s.ctx, legal, editedDraft(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.store.RequestPublish(s.ctx, admin, PublishRequest{Note: "x"}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("admin requests: %v", err)
	}
	if _, err := s.store.RequestPublish(s.ctx, legal, PublishRequest{DraftRevision: d.Revision}); err == nil {
		t.Fatal("request without a note")
	}
	ap, err := s.store.RequestPublish(s.ctx, legal, PublishRequest{Note: "raise the trademark threshold", DraftRevision: d.Revision})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.store.RequestPublish(s.ctx, lara, PublishRequest{Note: "again"}); !errors.Is(err, ErrConflict) {
		t.Fatalf("second pending request: %v", err)
	}
	if _, err := s.store.Publish(s.ctx, lara, PublishRequest{Note: "skip the queue"}); !errors.Is(err, ErrConflict) {
		t.Fatalf("direct publish while a request waits: %v", err)
	}
	if _, err := s.store.ApprovePublish(s.ctx, legal, ap.ID, ""); !errors.Is(err, ErrForbidden) {
		t.Fatalf("self-approval: %v", err)
	}
	if err := s.store.RejectPublish(s.ctx, lara, ap.ID, ""); err == nil {
		t.Fatal("rejection without a note")
	}
	v, err := s.store.ApprovePublish(s.ctx, lara, ap.ID, "checked the backtest")
	if err != nil {
		t.Fatal(err)
	}
	if v.Author != "lara" || v.Note != "raise the trademark threshold (requested by lena, approved by lara)" {
		t.Fatalf("version %+v", v)
	}
	st, _ := s.store.State(s.ctx)
	if *st.Live != v.Version {
		t.Fatalf("live %d", *st.Live)
	}
	list, _ := s.store.Approvals(s.ctx, 10)
	if len(list) != 1 || list[0].Status != ApprovalApproved || list[0].DecidedBy != "lara" || *list[0].Version != v.Version {
		t.Fatalf("approvals %+v", list)
	}
	audit, _ := s.store.Audit(s.ctx, 5)
	var data map[string]any
	_ = json.Unmarshal(audit[0].Data, &data)
	if audit[0].Action != "publish" || data["requested_by"] != "lena" || data["approved_by"] != "lara" {
		t.Fatalf("audit %s %s", audit[0].Action, audit[0].Data)
	}

	// The draft changes after the request: approval refused.
	doc, _ := DefaultDocument()
	b, _ := doc.Canonical()
	if _, err := s.store.SaveDraft(s.ctx, legal, b); err != nil {
		t.Fatal(err)
	}
	ap, err = s.store.RequestPublish(s.ctx, legal, PublishRequest{Note: "back to the default"})
	if err != nil {
		t.Fatal(err)
	}
	doc.Params["trademark_block_score"] = json.RawMessage(`0.9`)
	b, _ = doc.Canonical()
	if _, err := s.store.SaveDraft(s.ctx, admin, b); err != nil {
		t.Fatal(err)
	}
	if _, err := s.store.ApprovePublish(s.ctx, lara, ap.ID, ""); !errors.Is(err, ErrConflict) {
		t.Fatalf("approve an edited draft: %v", err)
	}
	if err := s.store.RejectPublish(s.ctx, legal, ap.ID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.store.PendingApproval(s.ctx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("pending after withdrawal: %v", err)
	}
	list, _ = s.store.Approvals(s.ctx, 10)
	if list[0].Status != ApprovalWithdrawn {
		t.Fatalf("withdrawn: %+v", list[0])
	}
}
