package policy

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestDiffGolden(t *testing.T) {
	t.Parallel()
	a, err := ParseDocument(mustRead(t, "testdata/diff_a.json"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseDocument(mustRead(t, "testdata/diff_b.json"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := Diff(a, b, "policy/1", "draft")
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := d.WriteSummary(&out); err != nil {
		t.Fatal(err)
	}
	out.WriteString("\n" + d.Text)
	golden := filepath.Join("testdata", "diff.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want := string(mustRead(t, golden)); out.String() != want {
		t.Errorf("diff output differs from %s (run with -update):\n%s", golden, out.String())
	}
	same, err := Diff(a, a, "x", "y")
	if err != nil || !same.Empty() {
		t.Errorf("diff of a document with itself: %+v %v", same, err)
	}
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCanonicalRoundTrip(t *testing.T) {
	t.Parallel()
	doc, err := DefaultDocument()
	if err != nil {
		t.Fatal(err)
	}
	c1, err := doc.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	doc2, err := ParseDocument(c1)
	if err != nil {
		t.Fatal(err)
	}
	c2, _ := doc2.Canonical()
	if string(c1) != string(c2) {
		t.Fatal("canonical form is not stable")
	}
	var v map[string]any
	if err := json.Unmarshal(c1, &v); err != nil {
		t.Fatal(err)
	}
}
