// Package analysis defines the contract between the worker and the
// analyzers it runs: the design an analyzer sees, the typed result it returns
// and the findings it reports.
package analysis

import (
	"context"

	"github.com/muster-dev/muster/internal/imaging"
)

// Design is a decoded design with the metadata its merchant gave.
type Design struct {
	ID       string
	TenantID string
	SHA256   string
	Product  string
	Markets  []string
	Title    string
	Tags     []string
	Image    *imaging.Image
}

// Analyzer inspects a design and returns a typed result. Implementations must
// be safe for concurrent use; Name and Version are stored with every analysis
// so a verdict can be reproduced.
type Analyzer interface {
	Name() string
	Version() string
	Analyze(ctx context.Context, d *Design) (Result, error)
}

// Result is what one analyzer produced for one design.
type Result struct {
	// Data is the analyzer's typed result; it is stored as JSON.
	Data any
	// Findings are the typed things the analyzer found, for the policy.
	Findings []Finding
	// Versions lists the versions of data the result depends on besides the
	// analyzer itself (e.g. "bank:simple-icons" → "42"), stored with the verdict.
	Versions map[string]string
}

// Finding types.
const (
	FindingTrademark = "trademark"
	FindingSymbol    = "symbol"
	FindingCustom    = "custom"
	FindingNSFW      = "nsfw"
	FindingText      = "text"
)

// Finding is one typed thing an analyzer found in a design.
type Finding struct {
	Type     string         `json:"type"`
	Analyzer string         `json:"analyzer,omitempty"`
	Bank     string         `json:"bank,omitempty"`
	EntryID  string         `json:"entry_id,omitempty"`
	Label    string         `json:"label,omitempty"`
	Score    float64        `json:"score"`
	Distance *int           `json:"distance,omitempty"`
	Box      *Box           `json:"box,omitempty"`
	Attrs    map[string]any `json:"attrs,omitempty"`
}

// Box is a rectangle in the design's upright pixel coordinates.
type Box struct {
	X int `json:"x"`
	Y int `json:"y"`
	W int `json:"w"`
	H int `json:"h"`
}
