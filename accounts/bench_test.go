package accounts_test

import (
	"testing"

	"github.com/muster-dev/muster/accounts"
)

// BenchmarkHashDefault measures one argon2id hash with DefaultParams.
func BenchmarkHashDefault(b *testing.B) {
	for b.Loop() {
		if _, err := accounts.HashPassword("correct horse battery", accounts.DefaultParams); err != nil {
			b.Fatal(err)
		}
	}
}
