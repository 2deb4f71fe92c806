// Package natsembed runs the real NATS server (nats-server/v2) with
// JetStream inside the Muster process, for `muster run` and for tests.
package natsembed

import (
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Config describes an embedded server.
type Config struct {
	// StoreDir keeps JetStream data; a restart with the same directory keeps it.
	StoreDir string
	// Host and Port to listen on; Port -1 picks a random free port.
	Host string
	Port int
	// ServerName, unique per node.
	ServerName string
	// MaxPayload per message in bytes.
	MaxPayload int32
	// Token, if set, is required of every client (nats.Token): without it
	// anyone on the machine could publish to muster.* subjects.
	Token string
}

// WithDefaults fills in zero fields.
func (c Config) WithDefaults() Config {
	if c.Host == "" {
		c.Host = "127.0.0.1"
	}
	if c.Port == 0 {
		c.Port = -1
	}
	if c.ServerName == "" {
		c.ServerName = "muster-embedded"
	}
	if c.MaxPayload == 0 {
		c.MaxPayload = 8 << 20
	}
	return c
}

// Start starts the server and waits until it accepts connections.
func Start(cfg Config) (*server.Server, error) {
	cfg = cfg.WithDefaults()
	if cfg.StoreDir == "" {
		return nil, errors.New("natsembed: StoreDir is required")
	}
	ns, err := server.NewServer(&server.Options{
		ServerName:    cfg.ServerName,
		Host:          cfg.Host,
		Port:          cfg.Port,
		JetStream:     true,
		StoreDir:      cfg.StoreDir,
		MaxPayload:    cfg.MaxPayload,
		Authorization: cfg.Token,
		NoSigs:        true,
		NoLog:         true,
	})
	if err != nil {
		return nil, fmt.Errorf("natsembed: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(15 * time.Second) {
		ns.Shutdown()
		return nil, errors.New("natsembed: server not ready after 15s")
	}
	return ns, nil
}
