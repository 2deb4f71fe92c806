package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// RuleChange is one rule that differs between two documents.
type RuleChange struct {
	Name string `json:"name"`
	// Kind is added, removed or changed.
	Kind string `json:"kind"`
	// Fields lists the changed fields (JSON names) of a changed rule.
	Fields []string `json:"fields,omitempty"`
}

// DocDiff is the structured difference between two documents.
type DocDiff struct {
	Rules  []RuleChange `json:"rules"`
	Params []RuleChange `json:"params"`
	// Text is a unified line diff of the canonical documents.
	Text string `json:"text"`
}

// Empty reports whether nothing differs.
func (d DocDiff) Empty() bool { return len(d.Rules) == 0 && len(d.Params) == 0 && d.Text == "" }

// Diff compares two documents rule by rule (by name, in b's order, then
// removed rules) and parameter by parameter, and renders a text diff.
func Diff(a, b *Document, nameA, nameB string) (DocDiff, error) {
	var d DocDiff
	old := map[string]*Rule{}
	for i := range a.Rules {
		old[a.Rules[i].Name] = &a.Rules[i]
	}
	seen := map[string]bool{}
	for i := range b.Rules {
		r := &b.Rules[i]
		seen[r.Name] = true
		o, ok := old[r.Name]
		if !ok {
			d.Rules = append(d.Rules, RuleChange{Name: r.Name, Kind: "added"})
			continue
		}
		if f := changedFields(*o, *r); len(f) > 0 {
			d.Rules = append(d.Rules, RuleChange{Name: r.Name, Kind: "changed", Fields: f})
		}
	}
	for _, r := range a.Rules {
		if !seen[r.Name] {
			d.Rules = append(d.Rules, RuleChange{Name: r.Name, Kind: "removed"})
		}
	}
	for _, k := range sortedKeys(b.Params) {
		if ov, ok := a.Params[k]; !ok {
			d.Params = append(d.Params, RuleChange{Name: k, Kind: "added"})
		} else if !jsonEqual(ov, b.Params[k]) {
			d.Params = append(d.Params, RuleChange{Name: k, Kind: "changed"})
		}
	}
	for _, k := range sortedKeys(a.Params) {
		if _, ok := b.Params[k]; !ok {
			d.Params = append(d.Params, RuleChange{Name: k, Kind: "removed"})
		}
	}
	ca, err := a.Canonical()
	if err != nil {
		return DocDiff{}, err
	}
	cb, err := b.Canonical()
	if err != nil {
		return DocDiff{}, err
	}
	d.Text = unifiedDiff(string(ca), string(cb), nameA, nameB, 3)
	return d, nil
}

func jsonEqual(a, b json.RawMessage) bool {
	var x, y bytes.Buffer
	return json.Compact(&x, a) == nil && json.Compact(&y, b) == nil && bytes.Equal(x.Bytes(), y.Bytes())
}

func changedFields(a, b Rule) []string {
	var out []string
	ta := reflect.TypeOf(a)
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	for i := range ta.NumField() {
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			name, _, _ := strings.Cut(ta.Field(i).Tag.Get("json"), ",")
			out = append(out, name)
		}
	}
	return out
}

// WriteSummary renders the rule-level changes, one per line.
func (d DocDiff) WriteSummary(w io.Writer) error {
	if d.Empty() {
		_, err := fmt.Fprintln(w, "no differences")
		return err
	}
	var b strings.Builder
	mark := map[string]string{"added": "+", "removed": "-", "changed": "~"}
	for _, c := range d.Rules {
		fmt.Fprintf(&b, "%s rule %s", mark[c.Kind], c.Name)
		if len(c.Fields) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(c.Fields, ", "))
		}
		b.WriteByte('\n')
	}
	for _, c := range d.Params {
		fmt.Fprintf(&b, "%s param %s\n", mark[c.Kind], c.Name)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// unifiedDiff renders a unified diff of two texts with ctx context lines,
// using a longest-common-subsequence alignment of lines ("" if equal).
func unifiedDiff(a, b, nameA, nameB string, ctx int) string {
	if a == b {
		return ""
	}
	la, lb := splitLines(a), splitLines(b)
	n, m := len(la), len(lb)
	// lcs[i][j] = LCS length of la[i:], lb[j:].
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if la[i] == lb[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type op struct {
		kind byte // ' ', '-', '+'
		line string
		ai   int
		bi   int
	}
	var ops []op
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && la[i] == lb[j]:
			ops = append(ops, op{' ', la[i], i, j})
			i++
			j++
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, op{'-', la[i], i, j})
			i++
		default:
			ops = append(ops, op{'+', lb[j], i, j})
			j++
		}
	}
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", nameA, nameB)
	for k := 0; k < len(ops); {
		if ops[k].kind == ' ' {
			k++
			continue
		}
		start := max(k-ctx, 0)
		end := k
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == ' ' {
				run++
			}
			if run-end > 2*ctx || run == len(ops) {
				end = min(end+ctx, len(ops))
				break
			}
			end = run
		}
		var aLen, bLen int
		for _, o := range ops[start:end] {
			if o.kind != '+' {
				aLen++
			}
			if o.kind != '-' {
				bLen++
			}
		}
		fmt.Fprintf(&out, "@@ -%d,%d +%d,%d @@\n", ops[start].ai+1, aLen, ops[start].bi+1, bLen)
		for _, o := range ops[start:end] {
			out.WriteByte(o.kind)
			out.WriteString(o.line)
			if !strings.HasSuffix(o.line, "\n") {
				out.WriteString("\n\\ No newline at end of file\n")
			}
		}
		k = end
	}
	return out.String()
}

func splitLines(s string) []string {
	l := strings.SplitAfter(s, "\n")
	if len(l) > 0 && l[len(l)-1] == "" {
		l = l[:len(l)-1]
	}
	return l
}
