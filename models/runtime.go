package models

import (
	"errors"
	"fmt"
	"os"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// ErrRuntimeUnavailable is wrapped by every error that means the ONNX
// Runtime shared library cannot be used (missing file, wrong checksum,
// not loadable, too old). Callers branch on it with errors.Is to fail
// start-up with a clear message.
var ErrRuntimeUnavailable = errors.New("onnx runtime unavailable")

// MaxCommandLine is the longest command line (bytes of /proc/self/cmdline)
// under which the ONNX Runtime environment is created. ONNX Runtime reads
// /proc/self/cmdline when it creates its environment and parses it
// recursively, a few hundred bytes of stack per byte of command line: on
// the 8 MiB stack of a Go cgo thread it overflows at about 29 KB (700 file
// paths given to muster scan died with SIGSEGV inside CreateOrtEnv).
// 16 KiB leaves a wide margin.
const MaxCommandLine = 16 << 10

// ErrCommandLineTooLong is wrapped by the error Init returns instead of
// letting ONNX Runtime crash on a long command line.
var ErrCommandLineTooLong = errors.New("command line too long for ONNX Runtime (it parses /proc/self/cmdline recursively); pass files in a directory, on standard input or with --files-from")

// CommandLineBytes is the length of this process's command line as the
// kernel reports it (/proc/self/cmdline), or 0 where it cannot be read.
func CommandLineBytes() int {
	b, err := os.ReadFile("/proc/self/cmdline")
	if err != nil {
		return 0
	}
	return len(b)
}

// RuntimeError says why the ONNX Runtime library could not be used.
type RuntimeError struct {
	Path string
	Err  error
}

func (e *RuntimeError) Error() string {
	return fmt.Sprintf("onnx runtime library %q: %v", e.Path, e.Err)
}

// Unwrap returns the cause.
func (e *RuntimeError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrRuntimeUnavailable) true for every RuntimeError.
func (e *RuntimeError) Is(target error) bool { return target == ErrRuntimeUnavailable }

// Runtime owns the ONNX Runtime environment. onnxruntime_go keeps that
// environment in process-global state, so a process should have one Runtime:
// Init it once at start-up (extra calls are harmless) and Close it at exit,
// after every session made from it is closed.
type Runtime struct {
	mu      sync.Mutex
	libPath string
	owner   bool // this Runtime initialized the global environment
	version string
}

// NewRuntime returns an uninitialized Runtime.
func NewRuntime() *Runtime { return &Runtime{} }

// Init loads the ONNX Runtime shared library at libPath and creates the
// environment. Calling it again is a no-op (the first library stays); a
// failure is a *RuntimeError wrapping ErrRuntimeUnavailable, never a crash.
func (r *Runtime) Init(libPath string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.libPath != "" {
		return nil
	}
	st, err := os.Stat(libPath)
	if err != nil {
		return &RuntimeError{Path: libPath, Err: err}
	}
	if !st.Mode().IsRegular() {
		return &RuntimeError{Path: libPath, Err: errors.New("not a regular file")}
	}
	if ort.IsInitialized() {
		// Another Runtime in this process already set it up: share it.
		r.libPath, r.version = libPath, ort.GetVersion()
		return nil
	}
	if n := CommandLineBytes(); n > MaxCommandLine {
		return &RuntimeError{Path: libPath, Err: fmt.Errorf("%w: the command line is %d bytes, the limit is %d", ErrCommandLineTooLong, n, MaxCommandLine)}
	}
	ort.SetSharedLibraryPath(libPath)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return &RuntimeError{Path: libPath, Err: err}
	}
	r.libPath, r.owner, r.version = libPath, true, ort.GetVersion()
	return nil
}

// Ready reports whether Init succeeded.
func (r *Runtime) Ready() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.libPath != ""
}

// Version is the loaded ONNX Runtime version ("1.30.0"), empty before Init.
func (r *Runtime) Version() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.version
}

// LibPath is the shared library Init loaded.
func (r *Runtime) LibPath() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.libPath
}

// Close destroys the environment if this Runtime created it. Calling it
// twice, or on a Runtime that was never initialized, is harmless.
func (r *Runtime) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.libPath == "" {
		return nil
	}
	owner := r.owner
	r.libPath, r.owner, r.version = "", false, ""
	if owner && ort.IsInitialized() {
		if err := ort.DestroyEnvironment(); err != nil {
			return fmt.Errorf("close onnx runtime: %w", err)
		}
	}
	return nil
}
