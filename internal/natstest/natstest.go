// Package natstest starts an embedded JetStream server per test on a random
// port and returns a connection to it.
package natstest

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

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

// Cluster is a JetStream cluster of embedded nodes for one test.
type Cluster struct {
	t     testing.TB
	Nodes []*server.Server
	cfgs  []natsembed.Config
}

// NewCluster starts n clustered nodes (routes between them), waits for
// JetStream to answer and shuts them down at the end of the test.
func NewCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	c := &Cluster{t: t}
	var routes []string
	ports := make([][2]int, n)
	for i := range n {
		ports[i] = [2]int{freePort(t), freePort(t)}
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", ports[i][1]))
	}
	dir := t.TempDir()
	for i := range n {
		c.cfgs = append(c.cfgs, natsembed.Config{StoreDir: filepath.Join(dir, fmt.Sprint(i)), Port: ports[i][0], ServerName: fmt.Sprintf("n%d", i),
			Cluster: &natsembed.Cluster{Name: "test", RoutePort: ports[i][1], Routes: routes}})
	}
	c.Nodes = make([]*server.Server, n)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Nodes[i], errs[i] = natsembed.Start(c.cfgs[i])
		}()
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, ns := range c.Nodes {
			if ns != nil {
				ns.Shutdown()
				ns.WaitForShutdown()
			}
		}
	})
	for _, err := range errs {
		if err != nil {
			t.Fatalf("natstest: cluster: %v", err)
		}
	}
	nc := c.Connect()
	defer nc.Close()
	js, _ := nc.JetStream()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := js.AccountInfo(); err == nil {
			return c
		} else if time.Now().After(deadline) {
			t.Fatalf("natstest: JetStream cluster not ready: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// URLs are the nodes' client URLs, comma-separated.
func (c *Cluster) URLs() string {
	var u []string
	for _, cfg := range c.cfgs {
		u = append(u, fmt.Sprintf("nats://127.0.0.1:%d", cfg.Port))
	}
	return strings.Join(u, ",")
}

// Connect returns a connection to the cluster that reconnects forever.
func (c *Cluster) Connect() *nats.Conn {
	c.t.Helper()
	nc, err := nats.Connect(c.URLs(), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		c.t.Fatalf("natstest: connect: %v", err)
	}
	c.t.Cleanup(nc.Close)
	return nc
}

// Stop shuts down the node named name (e.g. a stream's leader) and
// returns a function that starts it again on its ports and data.
func (c *Cluster) Stop(name string) (restart func()) {
	c.t.Helper()
	for i, ns := range c.Nodes {
		if ns != nil && c.cfgs[i].ServerName == name {
			ns.Shutdown()
			ns.WaitForShutdown()
			return func() {
				var err error
				if c.Nodes[i], err = natsembed.Start(c.cfgs[i]); err != nil {
					c.t.Errorf("natstest: restart %s: %v", name, err)
				}
			}
		}
	}
	c.t.Fatalf("natstest: no node %q", name)
	return nil
}

func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
