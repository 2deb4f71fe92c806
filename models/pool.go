package models

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	ort "github.com/yalue/onnxruntime_go"
)

// PoolConfig sizes a Pool.
type PoolConfig struct {
	// Sessions is how many sessions the pool opens, i.e. how many runs go
	// at once (default 1).
	Sessions int
	// IntraOpThreads is each session's intra-op thread count
	// (default max(1, NumCPU/Sessions)).
	IntraOpThreads int
	// NoSpinning stops ONNX Runtime's intra-op threads from spinning
	// while they wait for work (session.intra_op.allow_spinning 0).
	NoSpinning bool
}

// WithDefaults fills zero fields.
func (c PoolConfig) WithDefaults() PoolConfig {
	if c.Sessions <= 0 {
		c.Sessions = 1
	}
	if c.IntraOpThreads <= 0 {
		c.IntraOpThreads = max(1, runtime.NumCPU()/c.Sessions)
	}
	return c
}

// Tensor is a float32 tensor: its shape and row-major data.
type Tensor struct {
	Shape []int64
	Data  []float32
}

// Pool is a fixed set of ONNX Runtime sessions over one model with one
// float32 input and one float32 output, all of whose axes may be dynamic
// (the OCR models take images of any size). Run borrows a session, so
// concurrent callers run in parallel up to Sessions and queue beyond.
// Sessions are opened once and reused for every run.
type Pool struct {
	name     string
	in, out  string
	all      []*ort.DynamicAdvancedSession
	free     chan *ort.DynamicAdvancedSession
	mu       sync.RWMutex // Run holds it shared; Close exclusively
	closed   bool
	runs     atomic.Int64
	closeErr error
	once     sync.Once
}

// NewPool opens cfg.Sessions sessions of the ONNX file at path on an
// initialized Runtime.
func NewPool(rt *Runtime, path, input, output string, cfg PoolConfig) (*Pool, error) {
	cfg = cfg.WithDefaults()
	if cfg.Sessions > 64 {
		return nil, fmt.Errorf("pool %s: %d sessions is too many (max 64)", path, cfg.Sessions)
	}
	if rt == nil || !rt.Ready() {
		return nil, &RuntimeError{Err: errors.New("runtime not initialized (call Runtime.Init)")}
	}
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("open %s: session options: %w", path, err)
	}
	defer opts.Destroy()
	if err := opts.SetIntraOpNumThreads(cfg.IntraOpThreads); err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := opts.SetInterOpNumThreads(1); err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if cfg.NoSpinning {
		if err := opts.AddSessionConfigEntry("session.intra_op.allow_spinning", "0"); err != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
	}
	p := &Pool{name: path, in: input, out: output, free: make(chan *ort.DynamicAdvancedSession, cfg.Sessions)}
	for i := 0; i < cfg.Sessions; i++ {
		s, err := ort.NewDynamicAdvancedSession(path, []string{input}, []string{output}, opts)
		if err != nil {
			_ = p.Close()
			return nil, fmt.Errorf("open %s: session %d: %w", path, i, err)
		}
		p.all = append(p.all, s)
		p.free <- s
	}
	return p, nil
}

// Runs is the number of session runs so far.
func (p *Pool) Runs() int64 { return p.runs.Load() }

// Run runs one input tensor through a pooled session and returns the
// output (its shape as the model produced it).
func (p *Pool) Run(ctx context.Context, in Tensor) (Tensor, error) {
	out, _, err := p.RunTimed(ctx, in)
	return out, err
}

// RunTimed is Run that also returns the time of the session run itself:
// ONNX Runtime's own time (with onnxruntime_go's conversion of the output
// to Go memory), without the wait for a free session or the tensor set-up.
func (p *Pool) RunTimed(ctx context.Context, in Tensor) (Tensor, time.Duration, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return Tensor{}, 0, ErrClosed
	}
	var s *ort.DynamicAdvancedSession
	select {
	case s = <-p.free:
	case <-ctx.Done():
		return Tensor{}, 0, ctx.Err()
	}
	defer func() { p.free <- s }()
	n := int64(1)
	for _, d := range in.Shape {
		n *= d
	}
	if n != int64(len(in.Data)) || n == 0 {
		return Tensor{}, 0, fmt.Errorf("run %s: shape %v does not hold %d values", p.name, in.Shape, len(in.Data))
	}
	t, err := ort.NewTensor(ort.NewShape(in.Shape...), in.Data)
	if err != nil {
		return Tensor{}, 0, fmt.Errorf("run %s: input tensor: %w", p.name, err)
	}
	defer t.Destroy()
	outs := []ort.Value{nil}
	t0 := time.Now()
	err = s.Run([]ort.Value{t}, outs)
	took := time.Since(t0)
	if err != nil {
		return Tensor{}, took, fmt.Errorf("run %s: %w", p.name, err)
	}
	defer outs[0].Destroy()
	ft, ok := outs[0].(*ort.Tensor[float32])
	if !ok {
		return Tensor{}, took, fmt.Errorf("run %s: output is %T, want a float32 tensor", p.name, outs[0])
	}
	p.runs.Add(1)
	// onnxruntime_go copied the output into Go memory (a slice the tensor
	// wraps, still valid after Destroy): no second copy (the recogniser's
	// output is up to 40 MB a batch).
	return Tensor{Shape: append([]int64(nil), ft.GetShape()...), Data: ft.GetData()}, took, nil
}

// Close destroys the sessions after the runs in progress end. It is safe
// to call more than once.
func (p *Pool) Close() error {
	p.once.Do(func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.closed = true
		var errs []error
		for _, s := range p.all {
			if err := s.Destroy(); err != nil {
				errs = append(errs, err)
			}
		}
		p.closeErr = errors.Join(errs...)
	})
	return p.closeErr
}
