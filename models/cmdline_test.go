package models_test

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/muster-dev/muster/models"
)

// TestLongCommandLineIsRefusedNotACrash starts this test binary again with
// a 40 KB command line (what `muster scan` with ~1,000 paths has) and
// initializes the real ONNX Runtime in it: Init must return
// ErrCommandLineTooLong, where ONNX Runtime itself dies with SIGSEGV.
func TestLongCommandLineIsRefusedNotACrash(t *testing.T) {
	e := setup(t)
	args := []string{"-test.run=^TestLongCommandLineChild$"}
	for i := 0; i < 1000; i++ {
		args = append(args, "/tmp/a/rather/long/path/to/a/design/file-"+strings.Repeat("x", 10)+".png")
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "MUSTER_TEST_ORT_CHILD="+e.inst.ORTLib)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "refused: command line too long") {
		t.Fatalf("child: %v\n%.2000s", err, out)
	}
}

// TestLongCommandLineChild is the child of the test above.
func TestLongCommandLineChild(t *testing.T) {
	lib := os.Getenv("MUSTER_TEST_ORT_CHILD")
	if lib == "" {
		t.Skip("run by TestLongCommandLineIsRefusedNotACrash")
	}
	if n := models.CommandLineBytes(); n <= models.MaxCommandLine {
		t.Fatalf("command line %d bytes, want more than %d", n, models.MaxCommandLine)
	}
	err := models.NewRuntime().Init(lib)
	if !errors.Is(err, models.ErrCommandLineTooLong) || !errors.Is(err, models.ErrRuntimeUnavailable) {
		t.Fatalf("Init: %v", err)
	}
	os.Stdout.WriteString("refused: command line too long\n")
}
