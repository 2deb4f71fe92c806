package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/muster-dev/muster/mustertype"
	"io"
	"slices"
	"strings"

	"github.com/muster-dev/muster/internal/catalog"
)

// FormatVersion is the policy document format this package reads.
const FormatVersion = 1

// Rule scopes.
const (
	// ScopeDesign evaluates the condition once per design and market.
	ScopeDesign = "design"
	// ScopeFinding evaluates the condition once per finding, bound to f; the
	// rule fires if any finding matches and records which did.
	ScopeFinding = "finding"
)

// Ground kinds.
const (
	// GroundStatute is a legal ground: the content is illegal under Ref.
	GroundStatute = mustertype.GroundStatute
	// GroundTerms is a contractual ground: the content breaks the platform's
	// terms (clause Ref); no statute is claimed.
	GroundTerms = mustertype.GroundTerms
	// GroundNone marks allow rules that need no ground.
	GroundNone = mustertype.GroundNone
)

// Document is a whole policy: parameters and rules. It is what legal edits
// (as JSON) and what a policy version stores.
type Document struct {
	Format      int    `json:"format"`
	Description string `json:"description,omitempty"`
	// Params are thresholds and lists kept apart from the rule logic. Each is
	// visible to conditions as params.<name>; its CEL type is inferred from
	// the JSON value (see docs/policy.md).
	Params map[string]json.RawMessage `json:"params,omitempty"`
	Rules  []Rule                     `json:"rules"`
}

// Rule is one policy rule.
type Rule struct {
	// Name is unique within the document: [a-z0-9_.-]+.
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Markets the rule applies to: ISO 3166-1 alpha-2 codes, "EU" (every
	// member state and the EU pseudo-market), or "*" / empty for all.
	Markets []string `json:"markets,omitempty"`
	// Except removes markets from Markets (same codes).
	Except []string `json:"except,omitempty"`
	// Classes restricts the rule to products of these Nice classes; empty
	// means every product.
	Classes []int `json:"classes,omitempty"`
	// Scope is "design" (default) or "finding".
	Scope string `json:"scope,omitempty"`
	// When is the CEL condition; it must be boolean.
	When Condition `json:"when"`
	// Outcome is block, review or allow.
	Outcome string `json:"outcome"`
	// Code is the machine-readable reason code.
	Code   string `json:"code"`
	Ground Ground `json:"ground"`
	// Grounds overrides Ground per market, for rules whose markets each have
	// their own statute. For the EU pseudo-market the member states' grounds
	// are combined.
	Grounds map[string]Ground `json:"grounds,omitempty"`
	// Category is the DSA Transparency Database statement category used in
	// statements of reasons (e.g. STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH).
	Category string `json:"category,omitempty"`
	Notes    string `json:"notes,omitempty"`
}

// Condition is CEL source. In JSON it is a string or, for readability, a list
// of lines joined with newlines (so error lines match the list).
type Condition string

// UnmarshalJSON accepts a string or a list of strings.
func (c *Condition) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*c = Condition(s)
		return nil
	}
	var lines []string
	if err := json.Unmarshal(b, &lines); err != nil {
		return errors.New("want a string or a list of strings")
	}
	*c = Condition(strings.Join(lines, "\n"))
	return nil
}

// MarshalJSON writes one line as a string and several as a list.
func (c Condition) MarshalJSON() ([]byte, error) {
	var v any = string(c)
	if strings.Contains(string(c), "\n") {
		v = strings.Split(string(c), "\n")
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep && and > readable
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// CompileError is a precise error in a policy document: in the file (Rule
// empty, Line/Column in the file), in a rule field, or in a rule's condition
// (Field "when", Line/Column within the condition, both 1-based).
type CompileError struct {
	Rule   string
	Field  string
	Line   int
	Column int
	Msg    string
}

func (e *CompileError) Error() string {
	var b strings.Builder
	if e.Rule != "" {
		fmt.Fprintf(&b, "rule %q: ", e.Rule)
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		fmt.Fprintf(&b, "%d:%d: ", e.Line, e.Column)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ParseDocument decodes a policy document (unknown fields are errors) and
// validates everything except the conditions, which Compile checks. JSON
// errors carry the file line and column.
func ParseDocument(data []byte) (*Document, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var d Document
	if err := dec.Decode(&d); err != nil {
		return nil, jsonError(data, dec, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		line, col := lineCol(data, int(dec.InputOffset()))
		return nil, &CompileError{Line: line, Column: col, Msg: "unexpected data after the policy document"}
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return &d, nil
}

func jsonError(data []byte, dec *json.Decoder, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	off := int(dec.InputOffset())
	msg := err.Error()
	switch {
	case errors.As(err, &se):
		off = int(se.Offset) - 1 // Offset counts the offending byte
		msg = se.Error()
	case errors.As(err, &te):
		off = int(te.Offset)
		msg = fmt.Sprintf("field %s: want %s, got JSON %s", te.Field, te.Type, te.Value)
	case errors.Is(err, io.EOF):
		msg = "empty document: want a JSON object with format, params and rules"
	default:
		// Unknown fields: point at the key, not past its value.
		if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
			if i := bytes.LastIndex(data[:min(off, len(data))], []byte(name)); i >= 0 {
				off = i
			}
		}
	}
	line, col := lineCol(data, off)
	return &CompileError{Line: line, Column: col, Msg: strings.TrimPrefix(msg, "json: ")}
}

func lineCol(data []byte, off int) (int, int) {
	off = min(max(off, 0), len(data))
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := off - bytes.LastIndexByte(before, '\n')
	return line, col
}

var validOutcomes = []string{Allow, Review, Block}

// Validate checks the document's structure: format, unique names, markets,
// classes, outcomes, grounds and parameter names.
func (d *Document) Validate() error {
	var errs []error
	if d.Format != FormatVersion {
		errs = append(errs, &CompileError{Field: "format", Msg: fmt.Sprintf("want %d, got %d", FormatVersion, d.Format)})
	}
	for name := range d.Params {
		if !validIdent(name) {
			errs = append(errs, &CompileError{Field: "params." + name, Msg: "parameter names must match [a-z_][a-z0-9_]*"})
		}
	}
	seen := map[string]bool{}
	for i, r := range d.Rules {
		id := r.Name
		fail := func(field, format string, args ...any) {
			errs = append(errs, &CompileError{Rule: id, Field: field, Msg: fmt.Sprintf(format, args...)})
		}
		if r.Name == "" {
			id = fmt.Sprintf("#%d", i+1)
			fail("name", "required")
		} else if !validName(r.Name) {
			fail("name", "must match [a-z0-9_.-]+")
		}
		if seen[r.Name] {
			fail("name", "duplicate rule name")
		}
		seen[r.Name] = true
		for _, field := range []struct {
			name string
			list []string
		}{{"markets", r.Markets}, {"except", r.Except}} {
			for _, m := range field.list {
				if m != "*" && !catalog.IsMarket(m) {
					fail(field.name, "unknown market %q: want an ISO 3166-1 alpha-2 code, EU or *", m)
				}
			}
		}
		for _, c := range r.Classes {
			if c < 1 || c > 45 {
				fail("classes", "Nice class %d out of range 1..45", c)
			}
		}
		if r.Scope != "" && r.Scope != ScopeDesign && r.Scope != ScopeFinding {
			fail("scope", "want %q or %q, got %q", ScopeDesign, ScopeFinding, r.Scope)
		}
		if strings.TrimSpace(string(r.When)) == "" {
			fail("when", "a condition is required (use true for always)")
		}
		if !slices.Contains(validOutcomes, r.Outcome) {
			fail("outcome", "want block, review or allow, got %q", r.Outcome)
		}
		if r.Code == "" {
			fail("code", "a reason code is required")
		}
		checkGround := func(field string, g Ground) {
			switch g.Kind {
			case GroundStatute, GroundTerms:
				if g.Ref == "" {
					fail(field+".ref", "a %s ground needs a ref (statute or terms clause)", g.Kind)
				}
			case GroundNone:
				if r.Outcome == Block {
					fail(field+".kind", "a block rule needs a statute or terms ground")
				}
			default:
				fail(field+".kind", "want statute, terms or none, got %q", g.Kind)
			}
		}
		checkGround("ground", r.Ground)
		for m, g := range r.Grounds {
			if !catalog.IsMarket(m) || m == catalog.EU {
				fail("grounds", "unknown market %q: want an ISO 3166-1 alpha-2 country code", m)
			}
			checkGround("grounds."+m, g)
		}
	}
	return errors.Join(errs...)
}

func validName(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-') {
			return false
		}
	}
	return s != ""
}

func validIdent(s string) bool {
	for i, r := range s {
		if !(r >= 'a' && r <= 'z' || r == '_' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}

// Canonical renders the document as indented JSON with sorted parameter
// keys and compacted parameter values, the form stored and diffed.
func (d *Document) Canonical() ([]byte, error) {
	c := *d
	if len(d.Params) > 0 {
		c.Params = make(map[string]json.RawMessage, len(d.Params))
		for k, v := range d.Params {
			var buf bytes.Buffer
			if err := json.Compact(&buf, v); err != nil {
				return nil, fmt.Errorf("policy: param %s: %w", k, err)
			}
			c.Params[k] = buf.Bytes()
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(c); err != nil {
		return nil, fmt.Errorf("policy: encode document: %w", err)
	}
	return buf.Bytes(), nil
}

// appliesTo reports whether the rule applies in market m (see Rule.Markets).
// A rule for any member state also applies to the EU pseudo-market, because
// a design sold across the Union is sold in that member state too.
func (r *Rule) appliesTo(m string) bool {
	return matchMarkets(r.Markets, m, true) && !matchMarkets(r.Except, m, false)
}

func matchMarkets(list []string, m string, emptyIsAll bool) bool {
	if len(list) == 0 {
		return emptyIsAll
	}
	for _, c := range list {
		switch {
		case c == "*" || c == m:
			return true
		case c == catalog.EU && catalog.IsEUMember(m):
			return true
		case m == catalog.EU && emptyIsAll && catalog.IsEUMember(c):
			return true
		}
	}
	return false
}

// groundFor is the rule's ground in market m: the per-market override, for
// the EU pseudo-market the member states' overrides combined, else Ground.
func (r *Rule) groundFor(m string) Ground {
	if g, ok := r.Grounds[m]; ok {
		return g
	}
	if m != catalog.EU || len(r.Grounds) == 0 {
		return r.Ground
	}
	var refs, whys []string
	for _, c := range catalog.EUMembers {
		if g, ok := r.Grounds[c]; ok && r.appliesTo(c) {
			refs = append(refs, c+": "+g.Ref)
			whys = append(whys, c+": "+g.Explanation)
		}
	}
	if len(refs) == 0 {
		return r.Ground
	}
	return Ground{Kind: r.Ground.Kind, Ref: strings.Join(refs, "; "), Explanation: strings.Join(whys, " ")}
}
