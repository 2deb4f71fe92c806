// Package natsembed runs the real NATS server (nats-server/v2) with
// JetStream inside the Muster process, for `muster run` and for tests.
package natsembed

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
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
	// Cluster joins the node to a JetStream cluster (nil: standalone).
	Cluster *Cluster
}

// Cluster places a node in a NATS cluster: every node listens for routes on
// its own RoutePort and names every node's route URL (its own included, as
// nats-server expects) so they find each other; JetStream runs on each and
// replicates R3 streams over the cluster.
type Cluster struct {
	// Name of the cluster, the same on every node.
	Name string
	// Host and RoutePort this node accepts routes on.
	Host      string
	RoutePort int
	// Routes are every node's route URLs (nats-route://host:port).
	Routes []string
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
	opts := &server.Options{
		ServerName:    cfg.ServerName,
		Host:          cfg.Host,
		Port:          cfg.Port,
		JetStream:     true,
		StoreDir:      cfg.StoreDir,
		MaxPayload:    cfg.MaxPayload,
		Authorization: cfg.Token,
		NoSigs:        true,
		NoLog:         true,
	}
	if c := cfg.Cluster; c != nil {
		if c.Name == "" || c.RoutePort == 0 || len(c.Routes) == 0 {
			return nil, errors.New("natsembed: a cluster needs a name, a route port and the routes")
		}
		opts.Cluster = server.ClusterOpts{Name: c.Name, Host: cmp.Or(c.Host, cfg.Host), Port: c.RoutePort}
		for _, r := range c.Routes {
			u, err := url.Parse(r)
			if err != nil {
				return nil, fmt.Errorf("natsembed: route %q: %w", r, err)
			}
			opts.Routes = append(opts.Routes, u)
		}
	}
	ns, err := server.NewServer(opts)
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
