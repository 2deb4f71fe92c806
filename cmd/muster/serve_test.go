package main

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/muster-dev/muster/internal/natstest"
)

// TestServeAndWorkerByURL runs the production commands as separate
// "processes" (goroutines with their own connections) against PostgreSQL and
// NATS given by URL, and sends a design through them.
func TestServeAndWorkerByURL(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ns := natstest.Server(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	b.env["MUSTER_NATS_URL"] = ns.ClientURL()
	b.env["MUSTER_HTTP_ADDR"] = addr
	if _, _, err := b.run("tenant", "create", "shop"); err != nil {
		t.Fatal(err)
	}
	key, _, err := b.run("key", "create", "--tenant", "shop", "--role", "merchant")
	if err != nil {
		t.Fatal(err)
	}
	key = strings.TrimSpace(key)

	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error, 2)
	for _, cmd := range []string{"serve", "worker"} {
		go func() {
			var out bytes.Buffer
			errs <- run(ctx, []string{cmd}, func(k string) string { return b.env[k] }, &out, &out)
		}()
	}
	defer func() {
		cancel()
		for i := 0; i < 2; i++ {
			if err := <-errs; err != nil {
				t.Errorf("command returned %v", err)
			}
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("serve never became ready")
		}
		time.Sleep(50 * time.Millisecond)
	}
	file := writePNG(t, t.TempDir(), "d.png")
	data, _ := os.ReadFile(file)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("design", filepath.Base(file))
	fw.Write(data)
	mw.WriteField("markets", "DE,US")
	mw.WriteField("product", "tshirt")
	mw.Close()
	req, _ := http.NewRequest("POST", "http://"+addr+"/v1/designs?wait=20s", &body)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct {
		Status  string `json:"status"`
		Verdict *struct {
			PolicyVersion string `json:"policy_version"`
		} `json:"verdict"`
	}
	json.NewDecoder(resp.Body).Decode(&v)
	if resp.StatusCode != 201 || v.Status != "decided" || v.Verdict == nil || v.Verdict.PolicyVersion != "policy/1" {
		t.Fatalf("%d %+v", resp.StatusCode, v)
	}
}
