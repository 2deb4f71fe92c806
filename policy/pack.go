package policy

import (
	_ "embed"
	"fmt"
)

//go:embed pack/default.json
var defaultPack []byte

// DefaultPack returns the default policy pack document (JSON), written from
// shared/reference/jurisdictions.md. Callers get a copy.
func DefaultPack() []byte { return append([]byte(nil), defaultPack...) }

// DefaultDocument parses the default pack.
func DefaultDocument() (*Document, error) {
	d, err := ParseDocument(defaultPack)
	if err != nil {
		return nil, fmt.Errorf("policy: default pack: %w", err)
	}
	return d, nil
}
