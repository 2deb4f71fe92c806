// Package natstest starts an embedded JetStream server per test on a random
// port and returns a connection to it.
package natstest

import (
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/muster-dev/muster/internal/natsembed"
)

// Server starts an embedded server for the test and shuts it down at the end.
func Server(t testing.TB) *server.Server {
	t.Helper()
	ns, err := natsembed.Start(natsembed.Config{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatalf("natstest: %v", err)
	}
	t.Cleanup(func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	return ns
}

// New starts a server and returns a client connection to it.
func New(t testing.TB) *nats.Conn {
	t.Helper()
	ns := Server(t)
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatalf("natstest: connect: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}
