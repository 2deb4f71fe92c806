package policy

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/muster-dev/muster/mustertype"
)

type packSetup struct {
	compiled *Compiled
}

func setup(t *testing.T) packSetup {
	t.Helper()
	doc, err := DefaultDocument()
	if err != nil {
		t.Fatal(err)
	}
	c, err := Compile(doc, "default-test", Config{})
	if err != nil {
		t.Fatal(err)
	}
	return packSetup{compiled: c}
}

func symbol(entry, sym string, form map[string]any) mustertype.Finding {
	attrs := map[string]any{"symbol": sym}
	if form != nil {
		attrs["form"] = form
	}
	return mustertype.Finding{Type: "symbol", Analyzer: "bank", Bank: "symbols", EntryID: entry, Label: entry, Score: 0.93, Attrs: attrsOf(attrs)}
}

// trademark builds a finding the way it arrives from JSON (lists as []any,
// numbers as float64).
func trademark(entry string, jur []any, classes []any, famous bool, score float64) mustertype.Finding {
	return mustertype.Finding{Type: "trademark", Analyzer: "bank", Bank: "simple-icons", EntryID: entry, Label: entry, Score: score,
		Attrs: attrsOf(map[string]any{"jurisdictions": jur, "classes": classes, "famous": famous, "owner": entry + " Inc."})}
}

// attrsOf builds typed attributes from their JSON form, the way the store
// reads them back.
func attrsOf(m map[string]any) mustertype.Attrs {
	var a mustertype.Attrs
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	if err := json.Unmarshal(b, &a); err != nil {
		panic(err)
	}
	return a
}

func nsfwAnalysis(explicit, suggestive float64) map[string]json.RawMessage {
	b, _ := json.Marshal(map[string]any{"model": "nsfwjs", "model_version": "1",
		"probabilities": map[string]float64{"porn": explicit, "sexy": suggestive, "neutral": 1 - explicit - suggestive},
		"categories":    map[string]float64{"sexual_explicit": explicit, "sexual_suggestive": suggestive, "drawing": 0}})
	return map[string]json.RawMessage{"nsfw": b}
}

// nsfwChecked is an analysis whose whole-image explicit score the
// analyzer's second opinion checked: categories (nsfwjs) explicit,
// checked categories checkedExplicit.
func nsfwChecked(explicit, checkedExplicit float64) map[string]json.RawMessage {
	b, _ := json.Marshal(map[string]any{"model": "nsfwjs", "model_version": "1",
		"probabilities": map[string]float64{"porn": explicit, "neutral": 1 - explicit},
		"categories":    map[string]float64{"sexual_explicit": explicit, "sexual_suggestive": 0, "drawing": 0},
		"whole_check":   map[string]float64{"porn": checkedExplicit * checkedExplicit / explicit, "neutral": 1 - checkedExplicit*checkedExplicit/explicit},
		"checked":       map[string]float64{"sexual_explicit": checkedExplicit, "sexual_suggestive": 0, "drawing": 0}})
	return map[string]json.RawMessage{"nsfw": b}
}

var (
	hakenkreuz45   = symbol("hakenkreuz-45", "swastika", map[string]any{"orientation": "clockwise", "tilt_deg": 45.0, "context": "disc"})
	crossedOut     = symbol("hakenkreuz-45", "swastika", map[string]any{"orientation": "clockwise", "tilt_deg": 45.0, "context": "crossed_out"})
	religiousLeft  = symbol("swastika-religious-left", "swastika", map[string]any{"orientation": "counterclockwise", "tilt_deg": 0.0, "context": "temple", "religious": true})
	religiousRight = symbol("swastika-religious-right", "swastika", map[string]any{"orientation": "clockwise", "tilt_deg": 0.0, "context": ""})
	tiltedRight    = symbol("swastika-religious-right", "swastika", map[string]any{"orientation": "clockwise", "tilt_deg": 135.0, "religious": true})
	hammerSickle   = symbol("hammer-sickle", "hammer_sickle", nil)
	redStar        = symbol("red-star", "red_star", nil)
	zSymbol        = symbol("z-symbol", "z_symbol", nil)
	ribbon         = symbol("st-george-ribbon", "st_george_ribbon", nil)
	sonnenrad      = symbol("sonnenrad", "sonnenrad", nil)
	usOnlyMark     = trademark("acme", []any{"US"}, []any{25.0}, false, 0.95)
	famousMark     = trademark("megacola", []any{"EU", "US", "GB"}, []any{32.0}, true, 0.97)
	euApparelMark  = trademark("strider", []any{"EU"}, []any{25.0}, false, 0.95)
	wipoMark       = trademark("wipomark", []any{"WIPO:DE,FR"}, []any{25.0}, false, 0.95)
	weakMatch      = trademark("acme", []any{"US"}, []any{25.0}, false, 0.7)
	noDataMark     = trademark("mystery", []any{}, []any{}, false, 0.9)
)

func TestDefaultPack(t *testing.T) {
	t.Parallel()
	s := setup(t)
	licensed := usOnlyMark
	licensed.Attrs = attrsOf(map[string]any{"jurisdictions": []any{"US"}, "classes": []any{25.0}, "allowlisted": true})
	tests := []struct {
		name      string
		product   string
		findings  []mustertype.Finding
		analyses  map[string]json.RawMessage
		allowlist []string
		market    string
		want      string
		wantCode  string // code of the first (deciding) reason
		wantSoR   bool
	}{
		{"religious swastika in IN", "tshirt", fs(religiousLeft), nil, nil, "IN", Allow, "religious_symbol_allowed", false},
		{"religious swastika in DE", "tshirt", fs(religiousLeft), nil, nil, "DE", Review, "religious_symbol_review", false},
		{"religious 卐 without context in IN", "tshirt", fs(religiousRight), nil, nil, "IN", Allow, "religious_symbol_allowed", false},
		{"religious 卐 tilted 135° is a hakenkreuz in DE", "tshirt", fs(tiltedRight), nil, nil, "DE", Block, "extremist_symbol_illegal", true},
		{"religious swastika in AU (NSW exempts, federal unverified)", "tshirt", fs(religiousLeft), nil, nil, "AU", Review, "religious_symbol_review", false},
		{"hakenkreuz in DE", "tshirt", fs(hakenkreuz45), nil, nil, "DE", Block, "extremist_symbol_illegal", true},
		{"hakenkreuz in AT", "poster", fs(hakenkreuz45), nil, nil, "AT", Block, "extremist_symbol_illegal", true},
		{"hakenkreuz in FR", "mug", fs(hakenkreuz45), nil, nil, "FR", Block, "extremist_symbol_illegal", true},
		{"hakenkreuz in AU", "mug", fs(hakenkreuz45), nil, nil, "AU", Block, "extremist_symbol_illegal", false},
		{"hakenkreuz in US is a terms review", "tshirt", fs(hakenkreuz45), nil, nil, "US", Review, "extremist_symbol_terms", false},
		{"hakenkreuz in IN is a terms review", "tshirt", fs(hakenkreuz45), nil, nil, "IN", Review, "extremist_symbol_terms", false},
		{"hakenkreuz in BR needs intent (review)", "tshirt", fs(hakenkreuz45), nil, nil, "BR", Review, "extremist_symbol_intent", false},
		{"hakenkreuz in CZ is unsure (review)", "tshirt", fs(hakenkreuz45), nil, nil, "CZ", Review, "extremist_symbol_intent", false},
		{"crossed-out hakenkreuz in DE", "tshirt", fs(crossedOut), nil, nil, "DE", Review, "extremist_symbol_counter_use", false},
		{"hakenkreuz across the EU", "tshirt", fs(hakenkreuz45), nil, nil, "EU", Block, "extremist_symbol_illegal", true},
		{"hammer and sickle in LT", "tshirt", fs(hammerSickle), nil, nil, "LT", Block, "totalitarian_symbol_illegal", true},
		{"hammer and sickle in UA", "tshirt", fs(hammerSickle), nil, nil, "UA", Block, "totalitarian_symbol_illegal", false},
		{"hammer and sickle in US", "tshirt", fs(hammerSickle), nil, nil, "US", Review, "totalitarian_symbol_terms", false},
		{"hammer and sickle in PL is unsure", "tshirt", fs(hammerSickle), nil, nil, "PL", Review, "totalitarian_symbol_unsure", false},
		{"hammer and sickle in ID", "tshirt", fs(hammerSickle), nil, nil, "ID", Block, "communist_symbol_illegal", false},
		{"red star in ID is unsure", "tshirt", fs(redStar), nil, nil, "ID", Review, "communist_symbol_unsure", false},
		{"red star in LV (events only)", "tshirt", fs(redStar), nil, nil, "LV", Review, "totalitarian_symbol_unsure", false},
		{"Z in UA", "tshirt", fs(zSymbol), nil, nil, "UA", Block, "aggression_symbol_illegal", false},
		{"Z in MD", "tshirt", fs(zSymbol), nil, nil, "MD", Block, "aggression_symbol_illegal", false},
		{"Z in DE is context-dependent", "tshirt", fs(zSymbol), nil, nil, "DE", Review, "aggression_symbol_context", false},
		{"Z in US", "tshirt", fs(zSymbol), nil, nil, "US", Review, "aggression_symbol_terms", false},
		{"St George ribbon in LT", "tshirt", fs(ribbon), nil, nil, "LT", Block, "aggression_symbol_illegal", true},
		{"St George ribbon in UA is unsure", "tshirt", fs(ribbon), nil, nil, "UA", Review, "aggression_symbol_unsure", false},
		{"sonnenrad is unsure everywhere", "tshirt", fs(sonnenrad), nil, nil, "DE", Review, "extremist_symbol_unsure", false},
		{"US-only mark in US", "tshirt", fs(usOnlyMark), nil, nil, "US", Block, "trademark_infringement", false},
		{"US-only mark in BR", "tshirt", fs(usOnlyMark), nil, nil, "BR", Allow, CodeNoRuleMatched, false},
		{"US-only mark in DE", "tshirt", fs(usOnlyMark), nil, nil, "DE", Allow, CodeNoRuleMatched, false},
		{"US-only mark, tenant allow-list", "tshirt", fs(usOnlyMark), nil, []string{"acme"}, "US", Allow, "trademark_licensed", false},
		{"US-only mark, allow-listed finding", "tshirt", fs(licensed), nil, nil, "US", Allow, "trademark_licensed", false},
		{"US-only mark on a mug (other class)", "mug", fs(usOnlyMark), nil, nil, "US", Allow, CodeNoRuleMatched, false},
		{"US-only mark on a tote (similar class)", "tote", fs(usOnlyMark), nil, nil, "US", Review, "trademark_similar_goods", false},
		{"weak match of a US mark", "tshirt", fs(weakMatch), nil, nil, "US", Review, "trademark_possible", false},
		{"famous mark on a mug in DE", "mug", fs(famousMark), nil, nil, "DE", Block, "trademark_infringement", true},
		{"famous mark on a mug in US", "mug", fs(famousMark), nil, nil, "US", Block, "trademark_infringement", false},
		{"famous mark on a mug in JP (not registered)", "mug", fs(famousMark), nil, nil, "JP", Allow, CodeNoRuleMatched, false},
		{"EU apparel mark in IT", "hoodie", fs(euApparelMark), nil, nil, "IT", Block, "trademark_infringement", true},
		{"EU apparel mark in CH", "hoodie", fs(euApparelMark), nil, nil, "CH", Allow, CodeNoRuleMatched, false},
		{"WIPO mark designated DE", "tshirt", fs(wipoMark), nil, nil, "DE", Block, "trademark_infringement", true},
		{"WIPO mark not designated IT", "tshirt", fs(wipoMark), nil, nil, "IT", Allow, CodeNoRuleMatched, false},
		{"mark without registration data", "tshirt", fs(noDataMark), nil, nil, "US", Review, "trademark_scope_unknown", false},
		{"explicit sexual content in US", "poster", nil, nsfwAnalysis(0.92, 0.05), nil, "US", Block, "sexual_explicit", false},
		{"explicit sexual content in DE (terms ground)", "poster", nil, nsfwAnalysis(0.92, 0.05), nil, "DE", Block, "sexual_explicit", true},
		{"borderline explicit in US", "poster", nil, nsfwAnalysis(0.6, 0.3), nil, "US", Review, "sexual_explicit_possible", false},
		{"suggestive in US", "poster", nil, nsfwAnalysis(0.1, 0.7), nil, "US", Allow, CodeNoRuleMatched, false},
		{"suggestive in SA", "poster", nil, nsfwAnalysis(0.1, 0.7), nil, "SA", Review, "sexual_content_strict", false},
		{"explicit in AE", "poster", nil, nsfwAnalysis(0.6, 0.3), nil, "AE", Block, "sexual_content_illegal", false},
		{"low whole-image score in SA, the second model disagrees", "tshirt", nil, nsfwChecked(0.34, 0.06), nil, "SA", Allow, CodeNoRuleMatched, false},
		{"low whole-image score in AE, the second model agrees", "tshirt", nil, nsfwChecked(0.34, 0.3), nil, "AE", Review, "sexual_content_strict", false},
		{"an analysis without a check in SA reads nsfwjs's score", "tshirt", nil, nsfwAnalysis(0.34, 0), nil, "SA", Review, "sexual_content_strict", false},
		{"explicit 0.6 in SA blocks whatever was checked below", "tshirt", nil, nsfwChecked(0.6, 0.6), nil, "SA", Block, "sexual_content_illegal", false},
		{"ocr word mark in US", "tshirt", nil, map[string]json.RawMessage{"ocr": json.RawMessage(`{"text":"ACME rocks","word_marks":[{"mark":"ACME","entry_id":"acme","jurisdictions":["US"],"classes":[25]}]}`)}, nil, "US", Review, "word_mark_match", false},
		{"ocr word mark in BR", "tshirt", nil, map[string]json.RawMessage{"ocr": json.RawMessage(`{"text":"ACME rocks","word_marks":[{"mark":"ACME","entry_id":"acme","jurisdictions":["US"],"classes":[25]}]}`)}, nil, "BR", Allow, CodeNoRuleMatched, false},
		{"nothing found", "tshirt", nil, nil, nil, "DE", Allow, CodeNoRuleMatched, false},
		{"block wins over review", "tshirt", fs(zSymbol, hakenkreuz45), nil, nil, "DE", Block, "extremist_symbol_illegal", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := Input{TenantID: "t1", DesignID: "d1", Product: tt.product, Markets: []string{tt.market},
				Analyses: tt.analyses, Findings: tt.findings, Allowlist: tt.allowlist}
			d, err := s.compiled.Decide(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Markets) != 1 {
				t.Fatalf("got %d market verdicts, want 1", len(d.Markets))
			}
			mv := d.Markets[0]
			if mv.Outcome != tt.want || mv.Reasons[0].Code != tt.wantCode {
				t.Errorf("%s: got %s (%s), want %s (%s); reasons %+v", tt.market, mv.Outcome, mv.Reasons[0].Code, tt.want, tt.wantCode, codes(mv.Reasons))
			}
			if (mv.StatementOfReasons != nil) != tt.wantSoR {
				t.Errorf("statement of reasons present = %v, want %v", mv.StatementOfReasons != nil, tt.wantSoR)
			}
			if d.PolicyVersion != "default-test" {
				t.Errorf("policy version %q", d.PolicyVersion)
			}
			for _, r := range mv.Reasons {
				if r.Outcome == Block && r.Legal != nil && r.Legal.Kind == GroundNone {
					t.Errorf("block without ground: %+v", r)
				}
			}
		})
	}
}

func fs(f ...mustertype.Finding) []mustertype.Finding { return f }

func codes(rs []Reason) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Outcome+":"+r.Code)
	}
	return out
}

func TestTermsGroundIsNotAStatute(t *testing.T) {
	t.Parallel()
	s := setup(t)
	d, err := s.compiled.Decide(context.Background(), Input{DesignID: "d", Product: "tshirt", Markets: []string{"US"}, Findings: fs(hakenkreuz45)})
	if err != nil {
		t.Fatal(err)
	}
	r := d.Markets[0].Reasons[0]
	if r.Legal == nil || r.Legal.Kind != GroundTerms || r.Ground[:6] != "terms:" {
		t.Fatalf("US hakenkreuz reason should be a terms ground, got %+v", r)
	}
}

func TestStatementOfReasons(t *testing.T) {
	t.Parallel()
	s := setup(t)
	tests := []struct {
		name      string
		findings  []mustertype.Finding
		analyses  map[string]json.RawMessage
		market    string
		ground    string
		scope     []string
		legalText string
	}{
		{"statute in DE", fs(hakenkreuz45), nil, "DE", "DECISION_GROUND_ILLEGAL_CONTENT", []string{"DE"}, "StGB §86a"},
		{"terms in FR", nil, nsfwAnalysis(0.95, 0), "FR", "DECISION_GROUND_INCOMPATIBLE_CONTENT", []string{"FR"}, ""},
		{"EU mark across the Union", fs(euApparelMark), nil, "EU", "DECISION_GROUND_ILLEGAL_CONTENT", nil, "Trade mark law"},
		{"hakenkreuz across the Union", fs(hakenkreuz45), nil, "EU", "DECISION_GROUND_ILLEGAL_CONTENT", []string{"AT", "DE", "FR", "HU", "LT", "PL"}, "DE: StGB §86a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := s.compiled.Decide(context.Background(), Input{DesignID: "d42", Product: "tshirt", Markets: []string{tt.market}, Findings: tt.findings, Analyses: tt.analyses})
			if err != nil {
				t.Fatal(err)
			}
			var sor StatementOfReasons
			if err := json.Unmarshal(d.Markets[0].StatementOfReasons, &sor); err != nil {
				t.Fatalf("statement of reasons: %v (%s)", err, d.Markets[0].StatementOfReasons)
			}
			if sor.DecisionGround != tt.ground {
				t.Errorf("decision_ground %s, want %s", sor.DecisionGround, tt.ground)
			}
			want := tt.scope
			if want == nil {
				want = []string{"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"}
			}
			if !slices.Equal(sor.TerritorialScope, want) || !slices.Equal(sor.CountriesList, want) {
				t.Errorf("territorial scope %v, want %v", sor.TerritorialScope, want)
			}
			if tt.legalText != "" && !strings.Contains(sor.IllegalContentLegalGround, tt.legalText) {
				t.Errorf("illegal_content_legal_ground %q lacks %q", sor.IllegalContentLegalGround, tt.legalText)
			}
			if tt.ground == "DECISION_GROUND_INCOMPATIBLE_CONTENT" && sor.IncompatibleContentGround == "" {
				t.Error("incompatible_content_ground empty for a terms block")
			}
			if sor.PUID != "d42" || sor.AutomatedDetection != "Yes" || sor.AutomatedDecision == "" || len(sor.Redress) != 3 || sor.DecisionFacts == "" || len(sor.DecisionVisibility) == 0 {
				t.Errorf("incomplete statement: %+v", sor)
			}
		})
	}
}

// TestStrictWholeCheckedSwitch: strict_sexual_whole_checked false makes the
// SA/AE rules read nsfwjs's own scores (nsfw.categories) again, so the
// switch legal flips is the one the rules obey.
func TestStrictWholeCheckedSwitch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		checked bool
		want    string
	}{
		{"checked (default)", true, Allow},
		{"unchecked", false, Review},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc, err := DefaultDocument()
			if err != nil {
				t.Fatal(err)
			}
			if string(doc.Params["strict_sexual_whole_checked"]) != "true" {
				t.Fatalf("default strict_sexual_whole_checked = %s, want true", doc.Params["strict_sexual_whole_checked"])
			}
			v, _ := json.Marshal(tt.checked)
			doc.Params["strict_sexual_whole_checked"] = v
			c, err := Compile(doc, "switch-test", Config{})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range []string{"SA", "AE"} {
				d, err := c.Decide(context.Background(), Input{TenantID: "t1", DesignID: "d1", Product: "tshirt", Markets: []string{m}, Analyses: nsfwChecked(0.34, 0.06)})
				if err != nil {
					t.Fatal(err)
				}
				if got := d.Markets[0].Outcome; got != tt.want {
					t.Errorf("%s: %s, want %s (%v)", m, got, tt.want, codes(d.Markets[0].Reasons))
				}
			}
		})
	}
}
