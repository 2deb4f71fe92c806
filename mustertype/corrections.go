package mustertype

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Sources of a reviewer's "not this mark" correction: which analyzer's
// finding it corrects, and so what its key (review_corrections.sha256) is.
const (
	// CorrectionImage: the bank analyzer's logo or symbol match in the
	// design bytes; keyed by the bytes' sha256.
	CorrectionImage = "image"
	// CorrectionOCR: a word mark or phrase in the text read from the design
	// bytes (analyzer ocr); keyed by the bytes' sha256.
	CorrectionOCR = "ocr"
	// CorrectionListing: a word mark or phrase in the listing text the
	// merchant typed (analyzer listing); keyed by ListingTextKey of the
	// field's text.
	CorrectionListing = "listing"
)

// CorrectionSource is the correction source of a finding's analyzer ("" when
// its findings cannot be corrected).
func CorrectionSource(analyzer string) string {
	switch analyzer {
	case AnalyzerBank:
		return CorrectionImage
	case AnalyzerOCR:
		return CorrectionOCR
	case AnalyzerListing:
		return CorrectionListing
	}
	return ""
}

// ListingFields are the listing fields the listing analyzer screens.
var ListingFields = []string{"title", "tags", "description"}

// ListingField is the text of one listing field as the listing analyzer
// screens it: the title, the tags one per line, or the description ("" for
// any other field).
func ListingField(field, title string, tags []string, description string) string {
	switch field {
	case "title":
		return title
	case "tags":
		return strings.Join(tags, "\n")
	case "description":
		return description
	}
	return ""
}

// ListingTextKey is the key of a listing correction: the hex sha256 of the
// field's text. The same text never raises the corrected entry again,
// whichever design or field it is typed in.
func ListingTextKey(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}
