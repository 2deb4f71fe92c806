package mustertype

// Analyzer names whose results the policy reads. An analyzer stores its
// result under its name; the policy looks them up by these constants.
const (
	AnalyzerHash = "hash"
	AnalyzerNSFW = "nsfw"
	AnalyzerBank = "bank"
	AnalyzerOCR  = "ocr"
	// AnalyzerListing screens the listing's title, tags and description.
	AnalyzerListing = "listing"
)

// NSFWProbabilities are the NSFW model's five class probabilities.
type NSFWProbabilities struct {
	Drawing float64 `json:"drawing"`
	Hentai  float64 `json:"hentai"`
	Neutral float64 `json:"neutral"`
	Porn    float64 `json:"porn"`
	Sexy    float64 `json:"sexy"`
}

// NSFW category labels (Finding.Label of nsfw findings and the policy's
// nsfw.categories keys).
const (
	CategorySexualExplicit   = "sexual_explicit"
	CategorySexualSuggestive = "sexual_suggestive"
	CategoryDrawing          = "drawing"
)

// NSFWCategories are the scores the policy reads, each in 0..1.
type NSFWCategories struct {
	// SexualExplicit = porn + hentai (explicit content, photographic or drawn).
	SexualExplicit float64 `json:"sexual_explicit"`
	// SexualSuggestive = sexy.
	SexualSuggestive float64 `json:"sexual_suggestive"`
	// Drawing = drawing (illustration that is not explicit).
	Drawing float64 `json:"drawing"`
}

// NSFWTile is one classified region of the design.
type NSFWTile struct {
	Box           Box               `json:"box"`
	Probabilities NSFWProbabilities `json:"probabilities"`
	// Verifier is the second model's probabilities for the tile, present
	// when the tile scored high enough to be checked; the tile counts with
	// the geometric mean of the two models' unsafe scores.
	Verifier *NSFWProbabilities `json:"verifier,omitempty"`
}

// NSFWResult is the stored result of the nsfw analyzer.
type NSFWResult struct {
	Model        string `json:"model"`
	ModelVersion string `json:"model_version"`
	// Probabilities are the whole design's.
	Probabilities NSFWProbabilities `json:"probabilities"`
	// Categories are the maximum over the whole design and the tiles'
	// checked scores (see analyzers/nsfw: second-model check, tile floors).
	Categories NSFWCategories `json:"categories"`
	// Tiles are the tiles classified (empty for designs too small to tile).
	Tiles []NSFWTile `json:"tiles"`
	// TilesSkipped counts the tiles not classified because they hold
	// almost nothing but one flat colour.
	TilesSkipped int `json:"tiles_skipped,omitempty"`
	// VerifierVersion is the second model that checked high-scoring tiles
	// (empty when none was needed or none is configured).
	VerifierVersion string `json:"verifier_version,omitempty"`
	// WholeCheck is the same model's probabilities for the whole design
	// area-averaged to its input (no aliasing), present when nsfwjs's
	// whole-image unsafe score reached the check floor (analyzers/nsfw).
	// Probabilities stay nsfwjs's own.
	WholeCheck *NSFWProbabilities `json:"whole_check,omitempty"`
	// Checked are Categories with the whole design's unsafe scores
	// checked by WholeCheck (the policy's nsfw.checked); absent in
	// analyses made before the check (the policy then reads Categories).
	Checked *NSFWCategories `json:"checked,omitempty"`
}

// Point is a point in the design's upright pixel coordinates.
type Point struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// OCRLine is one line of text read from a design.
type OCRLine struct {
	Text  string  `json:"text"`
	Score float64 `json:"score"`
	Box   Box     `json:"box"`
	// Polygon follows the text (four points for a straight line, more for
	// an arched one).
	Polygon []Point `json:"polygon,omitempty"`
}

// WordMarkHit is a word mark matched in a design's text.
type WordMarkHit struct {
	Mark          string   `json:"mark"`
	EntryID       string   `json:"entry_id,omitempty"`
	Jurisdictions []string `json:"jurisdictions,omitempty"`
	Classes       []int    `json:"classes,omitempty"`
	Famous        bool     `json:"famous,omitempty"`
	Allowlisted   bool     `json:"allowlisted,omitempty"`
}

// OCRResult is the stored result of the ocr analyzer.
type OCRResult struct {
	// Text is every line in reading order, joined by newlines.
	Text  string    `json:"text"`
	Lines []OCRLine `json:"lines,omitempty"`
	// WordMarks are word marks matched in Text.
	WordMarks []WordMarkHit `json:"word_marks,omitempty"`
	// Models names the models and their versions.
	Models map[string]string `json:"models,omitempty"`
	// Corrected lists findings not reported because a reviewer marked that
	// entry wrong for the text read from these design bytes ("bank/id").
	Corrected []string `json:"corrected,omitempty"`
	// CorrectionsError says the corrections could not be read: every
	// finding was reported (fail closed).
	CorrectionsError string `json:"corrections_error,omitempty"`
}
