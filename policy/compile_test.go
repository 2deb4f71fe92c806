package policy

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/muster-dev/muster/mustertype"
)

func docWith(when string, params string) []byte {
	if params == "" {
		params = `{"limit": 0.5, "classes": [25, 18]}`
	}
	return []byte(`{
  "format": 1,
  "params": ` + params + `,
  "rules": [
    {
      "name": "r1",
      "scope": "finding",
      "when": ` + when + `,
      "outcome": "review",
      "code": "c",
      "ground": {"kind": "terms", "ref": "ToS 1"}
    }
  ]
}`)
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		doc      []byte
		wantRule string
		wantLine int
		wantCol  int
		wantMsg  string
	}{
		{"unknown field on finding", docWith(`"f.scroe > 0.5"`, ""), "r1", 1, 2, "undefined field 'scroe'"},
		{"string compared to double", docWith(`["f.type == 'symbol'", "  && f.label > params.limit"]`, ""), "r1", 2, 14, "no matching overload"},
		{"not boolean", docWith(`"f.score + 1.0"`, ""), "r1", 1, 1, "condition must be bool, got double"},
		{"undeclared parameter", docWith(`"f.score > params.limt"`, ""), "r1", 1, 17, "undeclared reference to 'params.limt'"},
		{"syntax error", docWith(`["f.type == 'symbol' &&", "  (f.score > 0.5"]`, ""), "r1", 2, 17, "Syntax error"},
		{"int list param typed", docWith(`"'x' in params.classes"`, ""), "r1", 1, 5, "no matching overload"},
		{"design scope has no f", []byte(strings.Replace(string(docWith(`"f.score > 0.5"`, "")), `"finding"`, `"design"`, 1)), "r1", 1, 1, "undeclared reference to 'f'"},
		{"json syntax with file position", []byte("{\n  \"format\": 1,\n  \"rules\": [\n    {\"name\": \"x\",}\n  ]\n}"), "", 4, 18, "invalid character '}'"},
		{"unknown rule field", []byte(`{"format":1,"rules":[{"name":"x","whn":"true"}]}`), "", 1, 34, `unknown field "whn"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Validate(tt.doc, Config{})
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a *CompileError", err)
			}
			if ce.Rule != tt.wantRule || ce.Line != tt.wantLine || ce.Column != tt.wantCol || !strings.Contains(ce.Msg, tt.wantMsg) {
				t.Errorf("got rule %q %d:%d %q, want rule %q %d:%d containing %q", ce.Rule, ce.Line, ce.Column, ce.Msg, tt.wantRule, tt.wantLine, tt.wantCol, tt.wantMsg)
			}
		})
	}
}

func TestValidateStructure(t *testing.T) {
	t.Parallel()
	bad := []byte(`{"format":1,"rules":[
 {"name":"a","markets":["XX"],"when":"true","outcome":"block","code":"c","ground":{"kind":"none"}},
 {"name":"a","when":"true","outcome":"deny","code":"","ground":{"kind":"terms"}}]}`)
	_, err := ParseDocument(bad)
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{`markets: unknown market "XX"`, "a block rule needs a statute or terms ground", "duplicate rule name", "want block, review or allow", "a reason code is required", "ground.ref: a terms ground needs a ref"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestCostLimitSendsToReview(t *testing.T) {
	t.Parallel()
	doc, err := ParseDocument([]byte(`{"format":1,"rules":[{"name":"heavy","when":"findings.all(a, findings.all(b, findings.all(c, a.score + b.score + c.score >= 0.0)))","outcome":"block","code":"c","ground":{"kind":"terms","ref":"ToS"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Compile(doc, "v", Config{CostLimit: 1000, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	var many []mustertype.Finding
	for range 40 {
		many = append(many, mustertype.Finding{Type: "custom", Score: 0.1})
	}
	d, err := c.Decide(context.Background(), Input{Product: "mug", Markets: []string{"US"}, Findings: many})
	if err != nil {
		t.Fatal(err)
	}
	r := d.Markets[0]
	if r.Outcome != Review || r.Reasons[0].Code != CodeRuleError || !strings.Contains(r.Reasons[0].Message, "cost limit") {
		t.Fatalf("got %+v, want review with rule_error (cost limit)", r)
	}
}

func TestCacheConcurrent(t *testing.T) {
	t.Parallel()
	cache := NewCache(Config{}, 2)
	var wg sync.WaitGroup
	got := make([]*Compiled, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := cache.Get("v1", DefaultPack())
			if err != nil {
				t.Error(err)
				return
			}
			got[i] = c
			if _, err := c.Decide(context.Background(), Input{Product: "tshirt", Markets: []string{"DE", "US"}, Findings: fs(hakenkreuz45)}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for _, c := range got[1:] {
		if c != got[0] {
			t.Fatal("cache returned different programs for one version")
		}
	}
}
