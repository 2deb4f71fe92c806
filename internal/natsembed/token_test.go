package natsembed_test

import (
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/muster-dev/muster/internal/natsembed"
)

// TestTokenRequired: with a token set, a client without it is refused and
// one with it connects.
func TestTokenRequired(t *testing.T) {
	t.Parallel()
	ns, err := natsembed.Start(natsembed.Config{StoreDir: t.TempDir(), Token: "s3cret-token-of-the-data-dir"})
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Shutdown()
	tests := []struct {
		name string
		opts []nats.Option
		ok   bool
	}{
		{"no token", nil, false},
		{"wrong token", []nats.Option{nats.Token("guess")}, false},
		{"the token", []nats.Option{nats.Token("s3cret-token-of-the-data-dir")}, true},
	}
	for _, tt := range tests {
		nc, err := nats.Connect(ns.ClientURL(), tt.opts...)
		if (err == nil) != tt.ok {
			t.Errorf("%s: connect err = %v, want ok=%v", tt.name, err, tt.ok)
		}
		if nc != nil {
			nc.Close()
		}
	}
}
