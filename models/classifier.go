package models

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	ort "github.com/yalue/onnxruntime_go"
)

// ErrClosed is returned by a Classifier after Close.
var ErrClosed = errors.New("classifier closed")

// SessionConfig sizes a Classifier's sessions and batching.
type SessionConfig struct {
	// Sessions is the number of ONNX Runtime sessions in the pool, i.e. how
	// many batches run at once; size it to the worker's concurrency
	// (default 1).
	Sessions int
	// IntraOpThreads is each session's intra-op thread count
	// (default max(1, NumCPU/Sessions)).
	IntraOpThreads int
	// MaxBatch is the largest batch one run takes (default 16).
	MaxBatch int
	// MaxWait is how long the first image of a batch waits for more before
	// the batch runs (default 4ms). While every session is busy the batch
	// keeps filling up to MaxBatch regardless.
	MaxWait time.Duration
	// Logger (default slog.Default()).
	Logger *slog.Logger
}

// WithDefaults fills zero fields.
func (c SessionConfig) WithDefaults() SessionConfig {
	if c.Sessions <= 0 {
		c.Sessions = 1
	}
	if c.IntraOpThreads <= 0 {
		c.IntraOpThreads = max(1, runtime.NumCPU()/c.Sessions)
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = 16
	}
	if c.MaxWait == 0 {
		c.MaxWait = 4 * time.Millisecond
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Validate checks a defaulted config.
func (c SessionConfig) Validate() error {
	switch {
	case c.Sessions > 64:
		return fmt.Errorf("session config: %d sessions is too many (max 64)", c.Sessions)
	case c.MaxBatch > 256:
		return fmt.Errorf("session config: max batch %d is too large (max 256)", c.MaxBatch)
	case c.MaxWait < 0 || c.MaxWait > time.Second:
		return fmt.Errorf("session config: max wait %v out of range (0..1s)", c.MaxWait)
	}
	return nil
}

// Stats counts a Classifier's work.
type Stats struct {
	Batches int64 // session runs
	Images  int64 // images classified
}

// Classifier runs one image model through a pool of ONNX Runtime sessions
// with dynamic batching: concurrent Classify calls are gathered into batches
// of up to MaxBatch images (or whatever arrived within MaxWait) and each
// batch is one session run over the model's dynamic batch axis. It is safe
// for concurrent use.
type Classifier struct {
	cfg      SessionConfig
	manifest Manifest
	all      []*ort.DynamicAdvancedSession
	free     chan *ort.DynamicAdvancedSession
	reqs     chan *request
	done     chan struct{}
	loopDone chan struct{}
	running  sync.WaitGroup
	once     sync.Once
	mu       sync.RWMutex // RunBatch holds it shared; Close exclusively
	closed   bool
	inLen    int // values per image
	outLen   int // values per result
	batches  atomic.Int64
	images   atomic.Int64
}

type request struct {
	ctx   context.Context
	input []float32
	out   []float32
	err   error
	done  chan struct{}
	// last marks the last input of a Classify call of several inputs:
	// when it is gathered and nothing else is queued, the batch runs
	// without waiting MaxWait for inputs that are not coming.
	last bool
}

// NewClassifier opens the model installed in modelDir (see Setup and
// LoadManifest) on an initialized Runtime.
func NewClassifier(rt *Runtime, modelDir string, cfg SessionConfig) (*Classifier, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if rt == nil || !rt.Ready() {
		return nil, &RuntimeError{Err: errors.New("runtime not initialized (call Runtime.Init)")}
	}
	m, path, err := LoadManifest(modelDir)
	if err != nil {
		return nil, err
	}
	c := &Classifier{
		cfg: cfg, manifest: m,
		free:     make(chan *ort.DynamicAdvancedSession, cfg.Sessions),
		reqs:     make(chan *request, cfg.MaxBatch*cfg.Sessions*2),
		done:     make(chan struct{}),
		loopDone: make(chan struct{}),
		inLen:    int(m.Input.Shape[1] * m.Input.Shape[2] * m.Input.Shape[3]),
		outLen:   int(m.Output.Shape[1]),
	}
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("open model %s: session options: %w", m.Name, err)
	}
	defer opts.Destroy()
	if err := opts.SetIntraOpNumThreads(cfg.IntraOpThreads); err != nil {
		return nil, fmt.Errorf("open model %s: %w", m.Name, err)
	}
	if err := opts.SetInterOpNumThreads(1); err != nil {
		return nil, fmt.Errorf("open model %s: %w", m.Name, err)
	}
	for i := 0; i < cfg.Sessions; i++ {
		s, err := ort.NewDynamicAdvancedSession(path, []string{m.Input.Name}, []string{m.Output.Name}, opts)
		if err != nil {
			for _, s := range c.all {
				_ = s.Destroy()
			}
			return nil, fmt.Errorf("open model %s: session %d: %w", m.Name, i, err)
		}
		c.all = append(c.all, s)
		c.free <- s
	}
	go c.loop()
	cfg.Logger.Debug("classifier ready", "model", m.ModelVersion(), "sessions", cfg.Sessions,
		"intra_op_threads", cfg.IntraOpThreads, "max_batch", cfg.MaxBatch, "max_wait", cfg.MaxWait)
	return c, nil
}

// Manifest describes the loaded model.
func (c *Classifier) Manifest() Manifest { return c.manifest }

// Stats returns the counters so far.
func (c *Classifier) Stats() Stats {
	return Stats{Batches: c.batches.Load(), Images: c.images.Load()}
}

// Classify runs preprocessed inputs (each H×W×C float32, see the manifest)
// through the model via the batcher and returns one probability vector per
// input. Inputs from concurrent calls share batches.
func (c *Classifier) Classify(ctx context.Context, inputs ...[]float32) ([][]float32, error) {
	reqs := make([]*request, len(inputs))
	for i, in := range inputs {
		if len(in) != c.inLen {
			return nil, fmt.Errorf("classify: input %d has %d values, want %d", i, len(in), c.inLen)
		}
		reqs[i] = &request{ctx: ctx, input: in, done: make(chan struct{}), last: len(inputs) > 1 && i == len(inputs)-1}
		select {
		case c.reqs <- reqs[i]:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-c.done:
			return nil, ErrClosed
		}
	}
	out := make([][]float32, len(inputs))
	for i, r := range reqs {
		select {
		case <-r.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-c.done:
			return nil, ErrClosed
		}
		if r.err != nil {
			return nil, r.err
		}
		out[i] = r.out
	}
	return out, nil
}

// RunBatch runs inputs as one batch on a pooled session, bypassing the
// batcher (the benchmark uses it to time raw inference).
func (c *Classifier) RunBatch(ctx context.Context, inputs [][]float32) ([][]float32, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return nil, ErrClosed
	}
	var s *ort.DynamicAdvancedSession
	select {
	case s = <-c.free:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.done:
		return nil, ErrClosed
	}
	defer func() { c.free <- s }()
	return c.run(s, inputs)
}

func (c *Classifier) run(s *ort.DynamicAdvancedSession, inputs [][]float32) ([][]float32, error) {
	n := len(inputs)
	if n == 0 {
		return nil, nil
	}
	data := make([]float32, 0, n*c.inLen)
	for _, in := range inputs {
		if len(in) != c.inLen {
			return nil, fmt.Errorf("run %s: input has %d values, want %d", c.manifest.Name, len(in), c.inLen)
		}
		data = append(data, in...)
	}
	shape := c.manifest.Input.Shape
	in, err := ort.NewTensor(ort.NewShape(int64(n), shape[1], shape[2], shape[3]), data)
	if err != nil {
		return nil, fmt.Errorf("run %s: input tensor: %w", c.manifest.Name, err)
	}
	defer in.Destroy()
	out, err := ort.NewEmptyTensor[float32](ort.NewShape(int64(n), int64(c.outLen)))
	if err != nil {
		return nil, fmt.Errorf("run %s: output tensor: %w", c.manifest.Name, err)
	}
	defer out.Destroy()
	if err := s.Run([]ort.Value{in}, []ort.Value{out}); err != nil {
		return nil, fmt.Errorf("run %s: %w", c.manifest.Name, err)
	}
	c.batches.Add(1)
	c.images.Add(int64(n))
	flat := append([]float32(nil), out.GetData()...)
	res := make([][]float32, n)
	for i := range res {
		res[i] = flat[i*c.outLen : (i+1)*c.outLen : (i+1)*c.outLen]
	}
	return res, nil
}

// loop gathers requests into batches and hands each to a free session.
func (c *Classifier) loop() {
	defer close(c.loopDone)
	for {
		var first *request
		select {
		case first = <-c.reqs:
		case <-c.done:
			return
		}
		batch := []*request{first}
		timer := time.NewTimer(c.cfg.MaxWait)
	wait:
		for len(batch) < c.cfg.MaxBatch {
			if batch[len(batch)-1].last && len(c.reqs) == 0 {
				break
			}
			select {
			case r := <-c.reqs:
				batch = append(batch, r)
			case <-timer.C:
				break wait
			case <-c.done:
				timer.Stop()
				fail(batch, ErrClosed)
				return
			}
		}
		timer.Stop()
		var s *ort.DynamicAdvancedSession
	acquire:
		for {
			if len(batch) >= c.cfg.MaxBatch {
				select {
				case s = <-c.free:
					break acquire
				case <-c.done:
					fail(batch, ErrClosed)
					return
				}
			}
			select {
			case s = <-c.free:
				break acquire
			case r := <-c.reqs: // every session is busy: keep filling the batch
				batch = append(batch, r)
			case <-c.done:
				fail(batch, ErrClosed)
				return
			}
		}
		// The batch is spread over the sessions (one thread each by
		// default), so one design's tiles do not run on one core while
		// the others idle: the first part runs now, the others on the
		// next sessions to come free.
		parts := split(batch, c.cfg.Sessions)
		c.start(s, parts[0])
		for i, p := range parts[1:] {
			select {
			case s = <-c.free:
				c.start(s, p)
			case <-c.done:
				for _, q := range parts[1+i:] {
					fail(q, ErrClosed)
				}
				return
			}
		}
	}
}

// start runs a batch on session s in a goroutine the Classifier owns
// (Close waits for it); s goes back to the pool after.
func (c *Classifier) start(s *ort.DynamicAdvancedSession, batch []*request) {
	c.running.Add(1)
	go func() {
		defer c.running.Done()
		defer func() { c.free <- s }()
		c.runRequests(s, batch)
	}()
}

// split cuts a batch into at most n parts of nearly equal size, in order.
func split(batch []*request, n int) [][]*request {
	n = max(1, min(n, len(batch)))
	out := make([][]*request, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, batch[i*len(batch)/n:(i+1)*len(batch)/n])
	}
	return out
}

func (c *Classifier) runRequests(s *ort.DynamicAdvancedSession, batch []*request) {
	live := batch[:0:0]
	inputs := make([][]float32, 0, len(batch))
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			close(r.done)
			continue
		}
		live = append(live, r)
		inputs = append(inputs, r.input)
	}
	out, err := c.run(s, inputs)
	for i, r := range live {
		if err != nil {
			r.err = err
		} else {
			r.out = out[i]
		}
		close(r.done)
	}
}

func fail(batch []*request, err error) {
	for _, r := range batch {
		r.err = err
		close(r.done)
	}
}

// Close stops the batcher, waits for running batches and destroys the
// sessions. It is safe to call more than once.
func (c *Classifier) Close() error {
	var errs []error
	c.once.Do(func() {
		close(c.done)
		<-c.loopDone
		c.running.Wait()
		c.mu.Lock()
		defer c.mu.Unlock()
		c.closed = true
		for _, s := range c.all {
			if err := s.Destroy(); err != nil {
				errs = append(errs, err)
			}
		}
	})
	return errors.Join(errs...)
}
