// Command soak runs the real thing under faults and checks nothing is lost:
// a 3-node NATS JetStream cluster (R3 streams, consumers and object store),
// a local PostgreSQL cluster, several `muster worker` processes and two
// `muster serve` API instances (the real binary, as separate processes),
// and tenants uploading designs through the API like real clients (retrying
// with an Idempotency-Key on errors). While they upload it injects faults:
//
//   - kill -9 of a worker mid-analysis (twice, different workers);
//   - the MUSTER_DESIGNS stream leader's NATS node stopped for -leader-down;
//   - PostgreSQL restarted;
//   - kill -9 of an API instance;
//   - one tenant's webhook receiver hangs throughout.
//
// Then it waits for every acknowledged design to reach a terminal state and
// prints one line
//
//	soak: submitted=N decided=N failed=F lost=0 duplicate_verdicts=0 stuck=0 unanalysed=0 … max_verdict_latency=…
//
// and exits non-zero unless nothing was lost, decided twice, stuck, or
// decided without its analysis. make soak runs it (SOAK_N designs).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/muster-dev/muster/internal/natsembed"
	"github.com/muster-dev/muster/internal/pgcluster"
	"github.com/muster-dev/muster/migrations"
	"github.com/muster-dev/muster/queue"
	"github.com/muster-dev/muster/store"
	"github.com/muster-dev/muster/webhook"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

type options struct {
	n, full, tenants, workers, apis, clients int
	leaderDown, settle                       time.Duration
	muster, keep                             string
	concurrency                              int
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	var o options
	fs.IntVar(&o.n, "n", 2000, "designs to submit with the hash analyzer")
	fs.IntVar(&o.full, "full", 0, "then designs to submit with every analyzer (workers restarted with MUSTER_ANALYZERS unset; needs the models, as muster run installs them)")
	fs.IntVar(&o.tenants, "tenants", 4, "tenants submitting (tenant 0's webhook receiver hangs)")
	fs.IntVar(&o.workers, "workers", 3, "muster worker processes")
	fs.IntVar(&o.apis, "apis", 2, "muster serve processes")
	fs.IntVar(&o.clients, "clients", 16, "concurrent uploading clients")
	fs.IntVar(&o.concurrency, "concurrency", 2, "analyses at once per worker process")
	fs.DurationVar(&o.leaderDown, "leader-down", 30*time.Second, "how long the stream leader's NATS node stays down")
	fs.DurationVar(&o.settle, "settle", 15*time.Minute, "how long to wait after the last upload for every design to finish")
	fs.StringVar(&o.muster, "muster", "bin/muster", "the muster binary to run as workers and API instances")
	fs.StringVar(&o.keep, "keep", "", "keep the run's directory (logs, data) here instead of a temporary one")
	if err := fs.Parse(args); err != nil {
		return err
	}
	bin, err := filepath.Abs(o.muster)
	if err != nil {
		return err
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("the muster binary: %w (make soak builds it)", err)
	}
	o.muster = bin
	dir := o.keep
	if dir == "" {
		if dir, err = os.MkdirTemp("", "soak-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	_ = os.Chmod(dir, 0o755)
	s := &soak{o: o, dir: dir, out: stdout, start: time.Now()}
	defer s.cleanup()
	return s.run(ctx)
}

type soak struct {
	o     options
	dir   string
	out   io.Writer
	start time.Time

	pg       *pgcluster.Cluster
	pgCfg    pgcluster.Config
	dbURL    string
	pool     *pgxpool.Pool
	nodes    []*node
	natsURLs string
	nc       *nats.Conn

	mu    sync.Mutex
	procs map[string]*proc

	apiURLs []string
	keys    []string // merchant key per tenant
	tenants []string

	// analyzers is MUSTER_ANALYZERS for the workers ("" = every analyzer).
	analyzers string

	hookMu    sync.Mutex
	hookSeen  map[string]int // delivery id → times received (tenants with working receivers)
	hookByDes map[string]bool
}

type node struct {
	cfg natsembed.Config
	ns  *server.Server
}

type proc struct {
	name string
	args []string
	env  []string
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{}
}

func (s *soak) logf(format string, args ...any) {
	fmt.Fprintf(s.out, "[%6.1fs] %s\n", time.Since(s.start).Seconds(), fmt.Sprintf(format, args...))
}

func (s *soak) cleanup() {
	s.mu.Lock()
	for _, p := range s.procs {
		if p.cmd != nil && p.cmd.Process != nil {
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	s.mu.Unlock()
	s.mu.Lock()
	for _, p := range s.procs {
		if p.done != nil {
			select {
			case <-p.done:
			case <-time.After(10 * time.Second):
				_ = p.cmd.Process.Kill()
			}
		}
	}
	s.mu.Unlock()
	if s.nc != nil {
		s.nc.Close()
	}
	if s.pool != nil {
		s.pool.Close()
	}
	for _, n := range s.nodes {
		if n.ns != nil {
			n.ns.Shutdown()
			n.ns.WaitForShutdown()
		}
	}
	if s.pg != nil {
		_ = s.pg.Stop(context.Background())
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func (s *soak) run(ctx context.Context) error {
	s.procs = map[string]*proc{}
	s.hookSeen = map[string]int{}
	s.hookByDes = map[string]bool{}
	if err := s.startPostgres(ctx); err != nil {
		return err
	}
	if err := s.startNATS(ctx); err != nil {
		return err
	}
	if err := s.setupTenants(ctx); err != nil {
		return err
	}
	s.analyzers = "hash"
	if err := s.startProcesses(ctx); err != nil {
		return err
	}
	w := func(i int) string { return fmt.Sprintf("worker-%d", i%s.o.workers) }
	hashErr := s.drive(ctx, phase{label: "soak", n: s.o.n, analyzers: []string{"hash"}, faults: []fault{
		{0.10, "kill -9 a worker", func() { s.kill9(w(0), 3*time.Second) }},
		{0.25, "stop the stream leader", func() { s.leaderDown(ctx, s.o.leaderDown) }},
		{0.50, "restart PostgreSQL", func() { s.restartPostgres(ctx) }},
		{0.65, "kill -9 an API instance", func() { s.kill9("api-0", 2*time.Second) }},
		{0.80, "kill -9 another worker", func() { s.kill9(w(1), 3*time.Second) }},
	}})
	if s.o.full == 0 || ctx.Err() != nil {
		return hashErr
	}
	// Every analyzer: the workers restart with the default set.
	s.analyzers = ""
	for i := range s.o.workers {
		s.restart(w(i))
	}
	s.logf("workers restarted with every analyzer")
	fullErr := s.drive(ctx, phase{label: "soak(every analyzer)", n: s.o.full, base: s.o.n,
		analyzers: []string{"hash", "nsfw", "bank", "ocr", "listing"}, faults: []fault{
			{0.30, "kill -9 a worker", func() { s.kill9(w(2), 3*time.Second) }},
			{0.60, "stop the stream leader", func() { s.leaderDown(ctx, min(s.o.leaderDown, 15*time.Second)) }},
		}})
	if hashErr != nil {
		return hashErr
	}
	return fullErr
}

// restart stops a process gracefully and starts it again with the
// current settings.
func (s *soak) restart(name string) {
	s.mu.Lock()
	p := s.procs[name]
	s.mu.Unlock()
	if p == nil || p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	if err := s.spawn(name, nil, nil); err != nil {
		s.logf("restart %s: %v", name, err)
	}
}

// phase is one set of uploads with its faults and the analyzers every
// decided design must have been analysed by.
type phase struct {
	label     string
	n, base   int
	analyzers []string
	faults    []fault
}

// fault runs fn once at fraction at of the phase's uploads.
type fault struct {
	at   float64
	name string
	fn   func()
}

func (s *soak) startPostgres(ctx context.Context) error {
	s.pgCfg = pgcluster.Config{Dir: filepath.Join(s.dir, "pg"), MaxConnections: 300}
	c, err := pgcluster.Start(ctx, s.pgCfg)
	if err != nil {
		return err
	}
	s.pg = c
	admin, err := pgxpool.New(ctx, c.ConnString("postgres"))
	if err != nil {
		return err
	}
	_, err = admin.Exec(ctx, "CREATE DATABASE soak")
	admin.Close()
	if err != nil && !strings.Contains(err.Error(), "already exists") {
		return err
	}
	s.dbURL = c.ConnString("soak")
	if s.pool, err = pgxpool.New(ctx, s.dbURL); err != nil {
		return err
	}
	if _, err := migrations.Up(ctx, s.pool); err != nil {
		return err
	}
	s.logf("PostgreSQL up (%s)", c.Dir())
	return nil
}

func (s *soak) startNATS(ctx context.Context) error {
	const k = 3
	var routes, clients []string
	ports := make([][2]int, k)
	for i := range k {
		cp, err := freePort()
		if err != nil {
			return err
		}
		rp, err := freePort()
		if err != nil {
			return err
		}
		ports[i] = [2]int{cp, rp}
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", rp))
		clients = append(clients, fmt.Sprintf("nats://127.0.0.1:%d", cp))
	}
	for i := range k {
		n := &node{cfg: natsembed.Config{StoreDir: filepath.Join(s.dir, fmt.Sprintf("nats-%d", i)), Port: ports[i][0], ServerName: fmt.Sprintf("n%d", i),
			Cluster: &natsembed.Cluster{Name: "soak", RoutePort: ports[i][1], Routes: routes}}}
		s.nodes = append(s.nodes, n)
	}
	// Nodes wait for each other to form the JetStream meta group: start them together.
	errs := make(chan error, k)
	for _, n := range s.nodes {
		go func() {
			ns, err := natsembed.Start(n.cfg)
			n.ns = ns
			errs <- err
		}()
	}
	for range k {
		if err := <-errs; err != nil {
			return err
		}
	}
	s.natsURLs = strings.Join(clients, ",")
	nc, err := nats.Connect(s.natsURLs, nats.MaxReconnects(-1), nats.ReconnectWait(200*time.Millisecond))
	if err != nil {
		return err
	}
	s.nc = nc
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := js.AccountInfo(ctx); err == nil {
			break
		} else if time.Now().After(deadline) {
			return fmt.Errorf("JetStream cluster not ready: %w", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The layout, R3, before the processes start (they set it up too).
	if _, err := queue.Setup(ctx, nc, queue.Config{Replicas: 3}); err != nil {
		return fmt.Errorf("queue setup on the cluster: %w", err)
	}
	s.logf("NATS cluster up: 3 nodes, R3 streams (%s)", s.natsURLs)
	return nil
}

func (s *soak) setupTenants(ctx context.Context) error {
	st := store.New(s.pool)
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // a receiver that never answers in time
		case <-r.Context().Done():
		case <-time.After(time.Minute):
		}
	}))
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p webhook.Payload
		_ = json.NewDecoder(r.Body).Decode(&p)
		s.hookMu.Lock()
		s.hookSeen[p.DeliveryID]++
		s.hookByDes[p.DesignID] = true
		s.hookMu.Unlock()
	}))
	for i := range s.o.tenants {
		t, _, err := st.CreateTenant(ctx, fmt.Sprintf("soak-%d", i), "")
		if err != nil {
			return err
		}
		if err := st.SetTenantTier(ctx, t.ID, store.TierPaid); err != nil {
			return err
		}
		url := ok.URL
		if i == 0 {
			url = hang.URL
		}
		if _, err := st.SetWebhook(ctx, t.ID, url); err != nil {
			return err
		}
		key, _, err := st.CreateKey(ctx, t.ID, store.RoleMerchant, "soak")
		if err != nil {
			return err
		}
		s.tenants = append(s.tenants, t.ID)
		s.keys = append(s.keys, key)
	}
	s.logf("%d tenants (paid tier); tenant 0's webhook receiver hangs", s.o.tenants)
	return nil
}

func (s *soak) baseEnv() []string {
	return append(os.Environ(),
		"MUSTER_DATABASE_URL="+s.dbURL,
		"MUSTER_NATS_URL="+s.natsURLs,
		"MUSTER_NATS_REPLICAS=3",
		"MUSTER_ACK_WAIT=10s",
		"MUSTER_MAX_DELIVER=5",
		"MUSTER_CONCURRENCY="+strconv.Itoa(s.o.concurrency),
		"MUSTER_WEBHOOK_ALLOW_NETS=127.0.0.0/8",
		"MUSTER_WEBHOOK_PER_TENANT=2",
		"MUSTER_TIER_PAID=rate=10000,burst=10000,pending=100000",
		"MUSTER_SHUTDOWN_GRACE=5s",
		"MUSTER_LOG_LEVEL=info",
	)
}

func (s *soak) startProcesses(ctx context.Context) error {
	for i := range s.o.workers {
		if err := s.spawn(fmt.Sprintf("worker-%d", i), []string{"worker"}, nil); err != nil {
			return err
		}
	}
	for i := range s.o.apis {
		port, err := freePort()
		if err != nil {
			return err
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		if err := s.spawn(fmt.Sprintf("api-%d", i), []string{"serve"}, []string{"MUSTER_HTTP_ADDR=" + addr}); err != nil {
			return err
		}
		s.apiURLs = append(s.apiURLs, "http://"+addr)
	}
	for _, u := range s.apiURLs {
		if err := waitHTTP(ctx, u+"/readyz", 60*time.Second); err != nil {
			return fmt.Errorf("API %s: %w (logs in %s)", u, err, s.dir)
		}
	}
	s.logf("%d muster worker and %d muster serve processes up", s.o.workers, s.o.apis)
	return nil
}

func waitHTTP(ctx context.Context, url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// spawn starts (or restarts) a muster process, logging to dir/name.log.
func (s *soak) spawn(name string, args, env []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.procs[name]
	if p == nil {
		p = &proc{name: name, args: args, env: env}
		s.procs[name] = p
	}
	if p.log == nil {
		f, err := os.OpenFile(filepath.Join(s.dir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		p.log = f
	}
	cmd := exec.Command(s.o.muster, p.args...)
	cmd.Env = append(s.baseEnv(), p.env...)
	if s.analyzers != "" {
		cmd.Env = append(cmd.Env, "MUSTER_ANALYZERS="+s.analyzers)
	}
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	p.cmd, p.done = cmd, make(chan struct{})
	done := p.done
	go func() { _ = cmd.Wait(); close(done) }()
	return nil
}

// kill9 kills a process with SIGKILL and restarts it after a pause.
func (s *soak) kill9(name string, pause time.Duration) {
	s.mu.Lock()
	p := s.procs[name]
	s.mu.Unlock()
	if p == nil || p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	s.logf("fault: kill -9 %s (pid %d)", name, p.cmd.Process.Pid)
	time.Sleep(pause)
	if err := s.spawn(name, nil, nil); err != nil {
		s.logf("restart %s: %v", name, err)
		return
	}
	s.logf("fault over: %s restarted", name)
}

// leaderDown stops the NATS node leading MUSTER_DESIGNS for d, then
// restarts it on the same ports and data.
func (s *soak) leaderDown(ctx context.Context, d time.Duration) {
	js, _ := jetstream.New(s.nc)
	st, err := js.Stream(ctx, queue.StreamDesigns)
	if err != nil {
		s.logf("leader lookup: %v", err)
		return
	}
	info, err := st.Info(ctx)
	if err != nil || info.Cluster == nil {
		s.logf("leader lookup: %v", err)
		return
	}
	leader := info.Cluster.Leader
	var n *node
	for _, c := range s.nodes {
		if c.cfg.ServerName == leader {
			n = c
		}
	}
	if n == nil {
		s.logf("leader %q not found", leader)
		return
	}
	n.ns.Shutdown()
	n.ns.WaitForShutdown()
	s.logf("fault: NATS node %s (leader of %s) stopped for %s", leader, queue.StreamDesigns, d)
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
	ns, err := natsembed.Start(n.cfg)
	if err != nil {
		s.logf("restart NATS node %s: %v", leader, err)
		return
	}
	n.ns = ns
	s.logf("fault over: NATS node %s restarted", leader)
}

func (s *soak) restartPostgres(ctx context.Context) {
	if err := s.pg.Stop(ctx); err != nil {
		s.logf("stop PostgreSQL: %v", err)
		return
	}
	s.logf("fault: PostgreSQL stopped")
	time.Sleep(2 * time.Second)
	c, err := pgcluster.Start(ctx, s.pgCfg)
	if err != nil {
		s.logf("restart PostgreSQL: %v", err)
		return
	}
	s.pg = c
	s.logf("fault over: PostgreSQL restarted")
}

// design is one upload as a client sees it.
type design struct {
	idx      int
	tenant   int
	id       string
	accepted time.Time
	attempts int
	err      error
}

func pngOf(n int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	r := rand.New(rand.NewPCG(uint64(n), 7))
	for y := range 64 {
		for x := range 64 {
			img.SetNRGBA(x, y, color.NRGBA{uint8(r.IntN(256)), uint8(x * 4), uint8(y * 4), 255})
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

// upload submits one design, retrying (with the same Idempotency-Key)
// until an API instance accepts it or the deadline passes.
func (s *soak) upload(ctx context.Context, d *design, deadline time.Time) {
	data := pngOf(d.idx)
	client := &http.Client{Timeout: 30 * time.Second}
	for attempt := 0; time.Now().Before(deadline); attempt++ {
		d.attempts++
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		fw, _ := mw.CreateFormFile("design", "d.png")
		fw.Write(data)
		mw.WriteField("markets", "DE,US,FR")
		mw.WriteField("product", "tshirt")
		mw.WriteField("title", fmt.Sprintf("soak design %d", d.idx))
		mw.Close()
		url := s.apiURLs[(d.idx+attempt)%len(s.apiURLs)]
		req, _ := http.NewRequestWithContext(ctx, "POST", url+"/v1/designs", &body)
		req.Header.Set("Authorization", "Bearer "+s.keys[d.tenant])
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Idempotency-Key", fmt.Sprintf("soak-%d", d.idx))
		resp, err := client.Do(req)
		if err == nil {
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 201 || resp.StatusCode == 200 {
				var v struct{ ID string }
				if json.Unmarshal(raw, &v) == nil && v.ID != "" {
					d.id, d.accepted, d.err = v.ID, time.Now(), nil
					return
				}
			}
			err = fmt.Errorf("%d %s", resp.StatusCode, bytes.TrimSpace(raw))
			if resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != 429 && resp.StatusCode != 409 {
				d.err = err
				return // a client error is not retried
			}
		}
		d.err = err
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Duration(min(200*(attempt+1), 2000)) * time.Millisecond):
		}
	}
}

func (s *soak) drive(ctx context.Context, ph phase) error {
	designs := make([]*design, ph.n)
	for i := range designs {
		designs[i] = &design{idx: ph.base + i, tenant: i % s.o.tenants}
	}
	faults := ph.faults
	var accepted atomic.Int64
	var faultWG sync.WaitGroup
	stopFaults := make(chan struct{})
	faultWG.Add(1)
	go func() {
		defer faultWG.Done()
		next := 0
		for next < len(faults) {
			select {
			case <-stopFaults:
				return
			case <-time.After(50 * time.Millisecond):
			}
			if float64(accepted.Load()) >= faults[next].at*float64(ph.n) {
				f := faults[next]
				next++
				faultWG.Add(1)
				go func() { defer faultWG.Done(); f.fn() }()
			}
		}
	}()

	s.logf("%s: uploading %d designs from %d tenants with %d clients (analyzers: %s)", ph.label, ph.n, s.o.tenants, s.o.clients, strings.Join(ph.analyzers, ","))
	jobs := make(chan *design)
	var wg sync.WaitGroup
	uploadDeadline := time.Now().Add(30 * time.Minute)
	for range s.o.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range jobs {
				s.upload(ctx, d, uploadDeadline)
				if d.id != "" {
					if n := accepted.Add(1); n%500 == 0 {
						s.logf("%d designs accepted", n)
					}
				}
			}
		}()
	}
	for _, d := range designs {
		select {
		case jobs <- d:
		case <-ctx.Done():
		}
	}
	close(jobs)
	wg.Wait()
	uploadsDone := time.Now()
	s.logf("uploads done: %d accepted", accepted.Load())
	close(stopFaults)
	faultWG.Wait()

	// Wait for every accepted design to finish.
	var ids []string
	var rejected []string
	retries := 0
	for _, d := range designs {
		if d.id != "" {
			ids = append(ids, d.id)
			retries += d.attempts - 1
		} else {
			rejected = append(rejected, fmt.Sprintf("design %d: %v", d.idx, d.err))
		}
	}
	settleBy := time.Now().Add(s.o.settle)
	var open int
	lastOpen, lastAt := -1, time.Now()
	for {
		err := s.pool.QueryRow(ctx, `SELECT count(*) FROM designs WHERE id = ANY($1::uuid[]) AND status NOT IN ('decided', 'failed')`, ids).Scan(&open)
		if err == nil && open == 0 {
			break
		}
		if time.Now().After(settleBy) || ctx.Err() != nil {
			break
		}
		if err == nil && time.Since(lastAt) >= 30*time.Second {
			// Throughput or a stall? How fast the open designs finish, and
			// what state they are in.
			if lastOpen >= 0 {
				s.logf("settling: %d open, %.1f finished/s over the last %s; %s", open, float64(lastOpen-open)/time.Since(lastAt).Seconds(),
					time.Since(lastAt).Round(time.Second), s.openStates(ctx, ids))
			}
			lastOpen, lastAt = open, time.Now()
		}
		time.Sleep(time.Second)
	}
	drained := time.Since(uploadsDone)
	// Let the webhooks of the last verdicts arrive.
	time.Sleep(5 * time.Second)
	return s.report(ctx, ph, ids, rejected, retries, drained)
}

// openStates summarises the designs not yet finished: by status and
// analysis attempts, the newest failure reasons, and the work queue's
// pending and unacknowledged messages.
func (s *soak) openStates(ctx context.Context, ids []string) string {
	var parts []string
	rows, err := s.pool.Query(ctx, `SELECT status, attempts, count(*), max(extract(epoch FROM now() - updated_at))::int FROM designs
		WHERE id = ANY($1::uuid[]) AND status NOT IN ('decided', 'failed') GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 6`, ids)
	if err == nil {
		for rows.Next() {
			var st string
			var att, n, idle int
			if rows.Scan(&st, &att, &n, &idle) == nil {
				parts = append(parts, fmt.Sprintf("%s/attempts=%d: %d (idle up to %ds)", st, att, n, idle))
			}
		}
		rows.Close()
	}
	var reason string
	if s.pool.QueryRow(ctx, `SELECT coalesce(left(failure_reason, 120), '') FROM designs WHERE id = ANY($1::uuid[]) AND status NOT IN ('decided', 'failed')
		AND failure_reason IS NOT NULL ORDER BY updated_at DESC LIMIT 1`, ids).Scan(&reason) == nil && reason != "" {
		parts = append(parts, "latest failure: "+reason)
	}
	js, err := jetstream.New(s.nc)
	var st jetstream.Stream
	if err == nil {
		st, err = js.Stream(ctx, queue.StreamDesigns)
	}
	if err == nil {
		var pending, ackPending uint64
		lister := st.ListConsumers(ctx)
		for ci := range lister.Info() {
			pending += ci.NumPending
			ackPending += uint64(ci.NumAckPending)
		}
		parts = append(parts, fmt.Sprintf("queue: %d pending, %d delivered unacknowledged", pending, ackPending))
	}
	return strings.Join(parts, "; ")
}

func (s *soak) report(ctx context.Context, ph phase, ids, rejected []string, retries int, drained time.Duration) error {
	var decided, failed, stuck, present, dupVerdicts, unanalysed, allowNoAnalysis int
	q := func(sql string, dst *int) error {
		return s.pool.QueryRow(ctx, sql, ids).Scan(dst)
	}
	for _, c := range []struct {
		sql string
		dst *int
	}{
		{`SELECT count(*) FROM designs WHERE id = ANY($1::uuid[])`, &present},
		{`SELECT count(*) FROM designs WHERE id = ANY($1::uuid[]) AND status = 'decided'`, &decided},
		{`SELECT count(*) FROM designs WHERE id = ANY($1::uuid[]) AND status = 'failed'`, &failed},
		{`SELECT count(*) FROM designs WHERE id = ANY($1::uuid[]) AND status NOT IN ('decided', 'failed')`, &stuck},
		{`SELECT count(*) FROM (SELECT design_id FROM verdicts WHERE design_id = ANY($1::uuid[]) AND cause = 'analysis' GROUP BY design_id HAVING count(*) > 1) d`, &dupVerdicts},
		{`SELECT count(*) FROM designs d WHERE d.id = ANY($1::uuid[]) AND d.status = 'decided' AND (SELECT count(DISTINCT analyzer) FROM analyses a
			WHERE a.design_id = d.id AND a.analyzer = ANY('{` + strings.Join(ph.analyzers, ",") + `}'::text[])) < ` + strconv.Itoa(len(ph.analyzers)), &unanalysed},
		{`SELECT count(*) FROM verdicts v WHERE v.design_id = ANY($1::uuid[]) AND v.outcome = 'allow' AND NOT EXISTS (SELECT 1 FROM analyses a WHERE a.design_id = v.design_id)`, &allowNoAnalysis},
	} {
		if err := q(c.sql, c.dst); err != nil {
			return err
		}
	}
	lost := len(ids) - present
	rows, err := s.pool.Query(ctx, `SELECT extract(epoch FROM v.created_at - d.created_at)::float8, v.outcome FROM verdicts v JOIN designs d ON d.id = v.design_id
		WHERE v.design_id = ANY($1::uuid[]) AND v.cause = 'analysis'`, ids)
	if err != nil {
		return err
	}
	var lat []float64
	outcomes := map[string]int{}
	for rows.Next() {
		var l float64
		var o string
		if err := rows.Scan(&l, &o); err != nil {
			return err
		}
		lat = append(lat, l)
		outcomes[o]++
	}
	rows.Close()
	sort.Float64s(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return time.Duration(lat[min(len(lat)-1, int(p*float64(len(lat))))] * float64(time.Second)).Round(time.Millisecond)
	}
	unsent, _, err := store.New(s.pool).OutboxBacklog(ctx)
	if err != nil {
		return err
	}
	// Webhooks of the tenants whose receiver works: every terminal design
	// of theirs announced (at least once; receivers de-duplicate by id).
	var okTenantTerminal []string
	r2, err := s.pool.Query(ctx, `SELECT id::text FROM designs WHERE id = ANY($1::uuid[]) AND tenant_id <> $2 AND status IN ('decided', 'failed')`, ids, s.tenants[0])
	if err != nil {
		return err
	}
	for r2.Next() {
		var id string
		_ = r2.Scan(&id)
		okTenantTerminal = append(okTenantTerminal, id)
	}
	r2.Close()
	s.hookMu.Lock()
	hookMissing, hookDup := 0, 0
	for _, id := range okTenantTerminal {
		if !s.hookByDes[id] {
			hookMissing++
		}
	}
	for _, n := range s.hookSeen {
		if n > 1 {
			hookDup++
		}
	}
	hooks := len(s.hookSeen)
	s.hookMu.Unlock()

	fmt.Fprintf(s.out, "\noutcomes: %v; client retries: %d; rejected by the API: %d; drained %s after the last upload\n", outcomes, retries, len(rejected), drained.Round(time.Second))
	for i, r := range rejected {
		if i == 5 {
			break
		}
		fmt.Fprintf(s.out, "  rejected: %s\n", r)
	}
	fmt.Fprintf(s.out, "webhooks (tenants 1..%d): %d deliveries received, %d designs unannounced, %d delivery ids received more than once (receivers de-duplicate); outbox unsent: %d\n",
		s.o.tenants-1, hooks, hookMissing, hookDup, unsent)
	fmt.Fprintf(s.out, "verdict latency (upload → verdict): p50=%s p99=%s\n", pct(0.5), pct(0.99))
	if stuck > 0 {
		fmt.Fprintf(s.out, "not finished: %s\n", s.openStates(ctx, ids))
	}
	if failed > 0 {
		fr, err := s.pool.Query(ctx, `SELECT left(failure_reason, 100), count(*) FROM designs WHERE id = ANY($1::uuid[]) AND status = 'failed' GROUP BY 1 ORDER BY 2 DESC LIMIT 5`, ids)
		if err == nil {
			for fr.Next() {
				var r string
				var n int
				if fr.Scan(&r, &n) == nil {
					fmt.Fprintf(s.out, "  failed %d: %s\n", n, r)
				}
			}
			fr.Close()
		}
	}
	fmt.Fprintf(s.out, "%s: submitted=%d decided=%d failed=%d lost=%d duplicate_verdicts=%d stuck=%d unanalysed=%d allowed_without_analysis=%d max_verdict_latency=%s\n",
		ph.label, len(ids), decided, failed, lost, dupVerdicts, stuck, unanalysed, allowNoAnalysis, pct(1))
	var problems []string
	if lost > 0 {
		problems = append(problems, fmt.Sprintf("%d lost", lost))
	}
	if dupVerdicts > 0 {
		problems = append(problems, fmt.Sprintf("%d decided twice", dupVerdicts))
	}
	if stuck > 0 {
		problems = append(problems, fmt.Sprintf("%d stuck", stuck))
	}
	if unanalysed > 0 || allowNoAnalysis > 0 {
		problems = append(problems, fmt.Sprintf("%d decided without analysis", unanalysed+allowNoAnalysis))
	}
	if len(ids) == 0 {
		problems = append(problems, "nothing accepted")
	}
	if hookMissing > 0 {
		problems = append(problems, fmt.Sprintf("%d designs never announced by webhook", hookMissing))
	}
	if unsent > 0 {
		problems = append(problems, fmt.Sprintf("%d outbox messages unsent", unsent))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s: %s (logs in %s)", ph.label, strings.Join(problems, ", "), s.dir)
	}
	return nil
}
