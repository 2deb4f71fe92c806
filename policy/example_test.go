package policy_test

import (
	"context"
	"fmt"

	"github.com/muster-dev/muster/mustertype"
	"github.com/muster-dev/muster/policy"
)

// The default pack decides the same 45° hakenkreuz per market: blocked under
// StGB §86a in Germany, reviewed on the platform's terms in the US.
func ExampleCompile() {
	doc, err := policy.DefaultDocument()
	if err != nil {
		panic(err)
	}
	pol, err := policy.Compile(doc, "example/1", policy.Config{})
	if err != nil {
		panic(err)
	}
	d, err := pol.Decide(context.Background(), policy.Input{
		DesignID: "d1", Product: "tshirt", Markets: []string{"DE", "US", "IN"},
		Findings: []mustertype.Finding{{Type: "symbol", Bank: "symbols", EntryID: "hakenkreuz-45", Score: 0.95,
			Attrs: mustertype.Attrs{Symbol: "swastika", Form: &mustertype.SymbolForm{TiltDeg: 45, Context: "disc"}}}},
	})
	if err != nil {
		panic(err)
	}
	for _, m := range d.Markets {
		fmt.Printf("%s %s %s (%s) sor=%v\n", m.Market, m.Outcome, m.Reasons[0].Code, m.Reasons[0].Ground, m.StatementOfReasons != nil)
	}
	// Output:
	// DE block extremist_symbol_illegal (StGB §86a) sor=true
	// US review extremist_symbol_terms (terms: Terms of Service §4.2 (hateful and extremist symbols)) sor=false
	// IN review extremist_symbol_terms (terms: Terms of Service §4.2 (hateful and extremist symbols)) sor=false
}
