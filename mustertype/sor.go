package mustertype

// StatementOfReasons is the DSA Art. 17 statement for a block in an EU
// market, with the field names of the Commission's Transparency Database.
// It carries no personal data (no tenant, no title).
type StatementOfReasons struct {
	// PUID is the platform's identifier of the content (the design id).
	PUID string `json:"puid"`
	// DecisionVisibility is the measure (Art. 17(3)(a)).
	DecisionVisibility []string `json:"decision_visibility"`
	// EndDateVisibilityRestriction is null: the restriction has no end date.
	EndDateVisibilityRestriction *string `json:"end_date_visibility_restriction"`
	// DecisionGround is DECISION_GROUND_ILLEGAL_CONTENT or
	// DECISION_GROUND_INCOMPATIBLE_CONTENT.
	DecisionGround                 string `json:"decision_ground"`
	IllegalContentLegalGround      string `json:"illegal_content_legal_ground,omitempty"`
	IllegalContentExplanation      string `json:"illegal_content_explanation,omitempty"`
	IncompatibleContentGround      string `json:"incompatible_content_ground,omitempty"`
	IncompatibleContentExplanation string `json:"incompatible_content_explanation,omitempty"`
	Category                       string `json:"category,omitempty"`
	// DecisionFacts are the facts and circumstances (Art. 17(3)(b)).
	DecisionFacts string `json:"decision_facts"`
	// SourceType is SOURCE_VOLUNTARY: own-initiative screening, no notice.
	SourceType  string   `json:"source_type"`
	ContentType []string `json:"content_type"`
	// AutomatedDetection and AutomatedDecision answer Art. 17(3)(c).
	AutomatedDetection string `json:"automated_detection"`
	AutomatedDecision  string `json:"automated_decision"`
	// TerritorialScope and CountriesList are the member states where the
	// measure applies (Art. 17(3)(a)).
	TerritorialScope []string `json:"territorial_scope"`
	CountriesList    []string `json:"countries_list"`
	// Redress lists the options of Art. 17(3)(f).
	Redress []string `json:"redress"`
	// PolicyVersion and Rules identify the decision for replay.
	PolicyVersion string   `json:"policy_version"`
	Rules         []string `json:"rules"`
	// ReviewItem identifies a human decision (0: automated).
	ReviewItem int64 `json:"review_item,omitempty"`
}

// DSARedress are the redress options stated in every statement of reasons
// (DSA Art. 17(3)(f)).
var DSARedress = []string{
	"internal complaint-handling system (DSA Art. 20), within 6 months of this decision",
	"out-of-court dispute settlement (DSA Art. 21)",
	"judicial redress before the competent courts",
}
