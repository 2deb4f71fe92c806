package review

import (
	"slices"

	"github.com/muster-dev/muster/mustertype"
)

// ReasonCode is one reason a reviewer may give for a decision. A decision
// that blocks a market needs a block reason (it grounds the block and the
// DSA statement of reasons); one that only allows needs an allow reason.
type ReasonCode struct {
	Code string `json:"code"`
	// Outcome is the outcome the reason justifies (allow or block).
	Outcome string `json:"outcome"`
	Title   string `json:"title"`
	// Category is the DSA Transparency Database statement category of a
	// block reason.
	Category string `json:"category,omitempty"`
	// Ground is the legal or contractual ground of a block reason.
	Ground *mustertype.Ground `json:"ground,omitempty"`
}

var reasonCodes = []ReasonCode{
	{Code: "no_violation", Outcome: mustertype.Allow, Title: "No violation: the detection was wrong or the content is harmless"},
	{Code: "false_match", Outcome: mustertype.Allow, Title: "Not this mark or symbol: the match is a false positive"},
	{Code: "licensed", Outcome: mustertype.Allow, Title: "The merchant owns or licenses the mark"},
	{Code: "permitted_use", Outcome: mustertype.Allow, Title: "Permitted use: counter-speech, education, art, reporting (e.g. StGB §86(4)), parody, religious or cultural use"},
	{Code: "legal_in_market", Outcome: mustertype.Allow, Title: "Lawful in the markets allowed"},
	{Code: "trademark_infringement", Outcome: mustertype.Block, Title: "Infringes a registered trademark", Category: "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
		Ground: &mustertype.Ground{Kind: mustertype.GroundStatute, Ref: "Trademark law (EUTMR Art. 9; Directive (EU) 2015/2436 Art. 10)", Explanation: "Use of a sign identical or similar to a registered trademark for goods in its classes without the holder's consent."}},
	{Code: "extremist_symbol", Outcome: mustertype.Block, Title: "Prohibited extremist or totalitarian symbol", Category: "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
		Ground: &mustertype.Ground{Kind: mustertype.GroundStatute, Ref: "StGB §86a and national equivalents", Explanation: "Display of symbols of unconstitutional or prohibited organisations."}},
	{Code: "hate_speech", Outcome: mustertype.Block, Title: "Illegal hate speech or incitement", Category: "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
		Ground: &mustertype.Ground{Kind: mustertype.GroundStatute, Ref: "Framework Decision 2008/913/JHA; StGB §130 and national equivalents", Explanation: "Public incitement to violence or hatred against a group."}},
	{Code: "sexual_content", Outcome: mustertype.Block, Title: "Sexual content not allowed on the platform", Category: "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT",
		Ground: &mustertype.Ground{Kind: mustertype.GroundTerms, Ref: "Content guidelines: sexual content", Explanation: "Explicit sexual content is not printed on products."}},
	{Code: "terms_violation", Outcome: mustertype.Block, Title: "Violates the platform's content guidelines", Category: "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE",
		Ground: &mustertype.Ground{Kind: mustertype.GroundTerms, Ref: "Content guidelines", Explanation: "The design is incompatible with the platform's terms."}},
}

// Reasons lists the reason codes a decision may give.
func Reasons() []ReasonCode { return slices.Clone(reasonCodes) }

// LookupReason returns a reason code.
func LookupReason(code string) (ReasonCode, bool) {
	for _, r := range reasonCodes {
		if r.Code == code {
			return r, true
		}
	}
	return ReasonCode{}, false
}
