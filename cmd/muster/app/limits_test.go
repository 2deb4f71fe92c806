package app_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/muster-dev/muster/cmd/muster/app"
)

// TestOversizedAndSlowUploads: a declared Content-Length over the limit is
// refused before the body is read, and a client that trickles its upload
// is cut off at the read deadline instead of holding a connection and a
// buffer forever.
func TestOversizedAndSlowUploads(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *app.Options) { o.Config.HTTPReadTimeout = time.Second })
	addr := strings.TrimPrefix(b.url, "http://")

	t.Run("declared length over the limit", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		// 10 GB declared, nothing sent: the answer cannot depend on the body.
		fmt.Fprintf(conn, "POST /v1/designs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: image/png\r\nContent-Length: 10000000000\r\n\r\n", b.key)
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no answer before the body: %v", err)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), `"too_large"`) {
			t.Fatalf("got %d %s, want 413 too_large", resp.StatusCode, body)
		}
	})

	t.Run("trickled body", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /v1/designs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: image/png\r\nContent-Length: 100000\r\n\r\n", b.key)
		// One byte now and then: the server must give up at its deadline
		// (1 s here), answering or closing; a server without one would
		// wait for all 100,000 bytes.
		done := make(chan error, 1)
		go func() {
			_, err := io.ReadAll(conn) // returns when the server closes
			done <- err
		}()
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			case <-time.After(200 * time.Millisecond):
			}
			if _, err := conn.Write([]byte{0}); err != nil {
				return // closed by the server
			}
			if i > 150 { // 30 s: far beyond the 1 s deadline
				t.Fatal("the server kept a trickling upload open for 30 s")
			}
		}
	})
}
