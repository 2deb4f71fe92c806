package mustertype

// Finding types.
const (
	FindingTrademark = "trademark"
	FindingSymbol    = "symbol"
	FindingCustom    = "custom"
	FindingNSFW      = "nsfw"
	FindingText      = "text"
	FindingPhrase    = "phrase"
	// FindingIncomplete is an analyzer's report that a signal is missing
	// (its bank is empty or absent, its model could not run); Label says
	// what. The policy engine holds every market for review on it.
	FindingIncomplete = "incomplete"
)

// Finding is one typed thing an analyzer found in a design. Attrs carries the
// typed attributes of its kind; the policy reads them through the same type,
// so a renamed field fails to compile instead of silently dropping a signal.
type Finding struct {
	Type     string  `json:"type"`
	Analyzer string  `json:"analyzer,omitempty"`
	Bank     string  `json:"bank,omitempty"`
	EntryID  string  `json:"entry_id,omitempty"`
	Label    string  `json:"label,omitempty"`
	Score    float64 `json:"score"`
	Distance *int    `json:"distance,omitempty"`
	Box      *Box    `json:"box,omitempty"`
	Attrs    Attrs   `json:"attrs"`
}

// Box is a rectangle in the design's upright pixel coordinates.
type Box struct {
	X int `json:"x"`
	Y int `json:"y"`
	W int `json:"w"`
	H int `json:"h"`
}

// Attrs are a finding's typed attributes. One struct serves every kind (the
// stored JSON is flat); each group documents which finding types set it.
type Attrs struct {
	// Trademark and custom findings: the registered mark.

	// Jurisdictions lists where a mark is registered: ISO codes, "EU",
	// "WIPO:<codes>".
	Jurisdictions []string `json:"jurisdictions,omitempty"`
	// Classes are the Nice classes the mark is registered for.
	Classes []int `json:"classes,omitempty"`
	// Famous marks are protected beyond their classes.
	Famous bool `json:"famous,omitempty"`
	// Owner is the mark's owner.
	Owner string `json:"owner,omitempty"`
	// WordMarks are the mark's words (brand name, aliases).
	WordMarks []string `json:"word_marks,omitempty"`

	// Symbol findings.

	// Symbol is the canonical symbol kind (e.g. "swastika").
	Symbol string `json:"symbol,omitempty"`
	// Form is how the symbol appears in the design.
	Form *SymbolForm `json:"form,omitempty"`

	// Trademark, custom and symbol findings.

	// Allowlisted is set when the tenant holds a licence for the entry.
	Allowlisted bool `json:"allowlisted,omitempty"`

	// NSFW findings.

	// Source is "image" or "tile": where the highest score came from.
	Source string `json:"source,omitempty"`
	// ModelVersion is the classifier's version.
	ModelVersion string `json:"model_version,omitempty"`

	// Text-derived findings (word marks and phrases read by OCR or typed in
	// the listing).

	// Match is how the finding was made: "text" for a match in text.
	Match string `json:"match,omitempty"`
	// Field is where the text came from: "image" (OCR), "title", "tags",
	// "description".
	Field string `json:"field,omitempty"`
	// Text is the text that matched, as read.
	Text string `json:"text,omitempty"`
	// Method is how the text matched (exact, skeleton, ocr_confusion,
	// spaced, fuzzy).
	Method string `json:"method,omitempty"`
	// Generic marks a mark that is also an ordinary word.
	Generic bool `json:"generic,omitempty"`
	// Standalone marks a match that is the whole line or field.
	Standalone bool `json:"standalone,omitempty"`
	// BlockGrade marks a text match a policy may block on alone (a banned
	// slogan read without edits; a distinctive or standalone mark).
	BlockGrade bool `json:"block_grade,omitempty"`
	// Category is a phrase's category: "slogan", "greeting" or "code".
	Category string `json:"category,omitempty"`
	// Ground is the legal ground a phrase's bank entry cites.
	Ground string `json:"ground,omitempty"`
	// Jurisdictions (above) also carries where a phrase is banned.
}

// SymbolForm is the visual form of a symbol finding.
type SymbolForm struct {
	// Orientation is "clockwise", "counterclockwise" or "".
	Orientation string `json:"orientation,omitempty"`
	// TiltDeg is the rotation of the symbol in degrees.
	TiltDeg float64 `json:"tilt_deg"`
	// Context describes the surroundings ("disc", "flag", "crossed_out", …).
	Context string `json:"context,omitempty"`
	// Religious reports whether the analyzer saw a religious context.
	Religious bool `json:"religious"`
}
