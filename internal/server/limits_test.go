package server

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"weir.dev/weir/internal/metrics"
	"weir.dev/weir/internal/testenv"
)

// limited gives f a Receiver over the same cluster that serves at most n
// requests at once, each within timeout.
func (f *fixture) limited(n int, timeout time.Duration) *fixture {
	cfg := f.handler.(*Receiver).cfg
	cfg.MaxConcurrent, cfg.Timeout = n, timeout
	f.handler = NewReceiver(cfg)
	return f
}

// serve starts the fixture's Receiver behind the http.Server that Setup
// runs, on a loopback port, and returns its address.
func (f *fixture) serve(t testing.TB) string {
	t.Helper()
	ts := httptest.NewUnstartedServer(f.handler)
	ts.Config = newHTTPServer("", f.handler.(*Receiver))
	ts.Start()
	t.Cleanup(ts.Close)
	return ts.Listener.Addr().String()
}

// chunk is what stalled clients send, shared so that the clients
// themselves allocate nothing per connection.
var chunk = bytes.Repeat([]byte{'{'}, 64<<10)

// stall opens a connection to addr and sends a POST to path with header,
// announcing a body of claimed bytes (a chunked one when claimed is
// negative) but sending only sent of them (fewer when the server closes
// the connection first), and leaves the connection open until the test
// ends. It may run in a goroutine of the test.
func stall(t testing.TB, addr, path string, header http.Header, claimed, sent int) net.Conn {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Error(err)
		return nil
	}
	t.Cleanup(func() { conn.Close() })
	w := bufio.NewWriter(conn)
	fmt.Fprintf(w, "POST %s HTTP/1.1\r\nHost: weir\r\nContent-Type: application/json\r\n", path)
	if claimed >= 0 {
		fmt.Fprintf(w, "Content-Length: %d\r\n", claimed)
	} else {
		fmt.Fprint(w, "Transfer-Encoding: chunked\r\n")
	}
	_ = header.Write(w)
	fmt.Fprint(w, "\r\n")
	_ = conn.SetWriteDeadline(time.Now().Add(time.Minute))
	for sent > 0 {
		n := min(sent, len(chunk))
		if claimed < 0 {
			fmt.Fprintf(w, "%x\r\n", n)
		}
		w.Write(chunk[:n])
		if claimed < 0 {
			fmt.Fprint(w, "\r\n")
		}
		if w.Flush() != nil {
			break // the server answered and closed: nothing more to send
		}
		sent -= n
	}
	_ = w.Flush()
	return conn
}

// answer reads the server's answer on conn.
func answer(t testing.TB, conn net.Conn) *http.Response {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(time.Minute))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	return resp
}

// liveHeap is the heap in use after a collection, once it has stopped
// growing (the server may still be draining what the clients sent).
func liveHeap() uint64 {
	var last uint64
	for range 20 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		if last != 0 && m.HeapAlloc <= last+(1<<20) {
			return max(m.HeapAlloc, last)
		}
		last = m.HeapAlloc
		time.Sleep(100 * time.Millisecond)
	}
	return last
}

// flood is many connections that send a request and stall.
type flood struct {
	name   string
	header http.Header
	// claimed and sent are as in stall.
	claimed, sent int
	conns         int
}

// floods are the stalled requests whose heap growth is measured.
var floods = []flood{
	{"unsigned", http.Header{"X-Github-Event": {"push"}}, 25 << 20, 24 << 20, 8},
	{"wrongly signed", wronglySigned, 25 << 20, 24 << 20, 8},
	{"wrongly signed and chunked", wronglySigned, -1, 24 << 20, 8},
	{"wrongly signed, chunked and under the limit", wronglySigned, -1, 960 << 10, 16},
}

var wronglySigned = http.Header{"X-Github-Event": {"push"}, "X-Hub-Signature-256": {"sha256=00"}}

// growth opens fl's connections at once to a server of f and returns how
// much the live heap grew while they stall.
func (fl flood) growth(t testing.TB, f *fixture) uint64 {
	addr := f.serve(t)
	before := liveHeap()
	var wg sync.WaitGroup
	for range fl.conns {
		wg.Go(func() { stall(t, addr, "/hooks/github", fl.header, fl.claimed, fl.sent) })
	}
	wg.Wait()
	after := liveHeap()
	if after < before {
		return 0
	}
	return after - before
}

// The live heap may hold a body of MaxPayloadBytes per request served at
// once, and some buffers beside.
const heapBound = 3 * DefaultMaxConcurrent * MaxPayloadBytes / 2

func TestStalledUnsignedBodiesDoNotGrowTheHeap(t *testing.T) {
	for _, fl := range floods {
		t.Run(fl.name, func(t *testing.T) {
			growth := fl.growth(t, newFixture(t))
			t.Logf("%d stalled connections of %d KiB grew the live heap by %.1f MiB", fl.conns, fl.sent>>10, float64(growth)/(1<<20))
			if growth > heapBound {
				t.Errorf("%d stalled connections of %d KiB grew the live heap by %.1f MiB, want at most %d MiB", fl.conns, fl.sent>>10, float64(growth)/(1<<20), heapBound>>20)
			}
		})
	}
}

// BenchmarkStalledFlood reports the growth of the live heap, in MiB, while
// connections send bodies without a valid signature and stall.
func BenchmarkStalledFlood(b *testing.B) {
	for _, fl := range floods {
		b.Run(fl.name, func(b *testing.B) {
			var growth uint64
			for b.Loop() {
				growth = max(growth, fl.growth(b, newFixture(b)))
			}
			b.ReportMetric(float64(growth)/(1<<20), "heap-MiB")
		})
	}
}

// unreadBody is a request body that records whether it was read.
type unreadBody struct{ read bool }

func (b *unreadBody) Read([]byte) (int, error) { b.read = true; return 0, io.EOF }

func TestAnUnsignedRequestIsRefusedBeforeItsBodyIsRead(t *testing.T) {
	for _, p := range providers() {
		t.Run(p.name, func(t *testing.T) {
			f := newFixture(t)
			body := &unreadBody{}
			req := httptest.NewRequest(http.MethodPost, "/hooks/"+p.name, body)
			req.Header = http.Header{"X-Github-Event": {"push"}, "X-Gitlab-Event": {"Push Hook"}, "X-Gitea-Event": {"push"}}
			w := httptest.NewRecorder()
			f.handler.ServeHTTP(w, req)
			if w.Code != http.StatusUnauthorized || body.read {
				t.Errorf("status = %d, body read: %v; want 401 without reading the body", w.Code, body.read)
			}
		})
	}
}

func TestABodyOverTheLimitIsRefused(t *testing.T) {
	body := append(githubPush("refs/heads/main"), bytes.Repeat([]byte(" "), MaxPayloadBytes)...)
	f := newFixture(t)
	t.Run("announced", func(t *testing.T) {
		code, resp := f.post(t, "/hooks/github", signedGitHub("push", body), body)
		if code != http.StatusRequestEntityTooLarge || resp.Outcome != metrics.OutcomeBadRequest {
			t.Errorf("answer = %d %+v, want 413", code, resp)
		}
	})
	t.Run("chunked", func(t *testing.T) {
		conn := stall(t, f.serve(t), "/hooks/github", signedGitHub("push", body), -1, len(body))
		if resp := answer(t, conn); resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("status = %s, want 413", resp.Status)
		}
	})
	if len(f.refresher.apps) > 0 {
		t.Errorf("refreshed %v", f.refresher.apps)
	}
	body = body[:MaxPayloadBytes]
	if code, resp := f.post(t, "/hooks/github", signedGitHub("push", body), body); code != http.StatusAccepted {
		t.Errorf("a body of exactly the limit: answer = %d %+v, want 202", code, resp)
	}
}

func TestABodyThatDoesNotArriveInTimeIsRefused(t *testing.T) {
	f := newFixture(t).limited(DefaultMaxConcurrent, 200*time.Millisecond)
	body := githubPush("refs/heads/main")
	conn := stall(t, f.serve(t), "/hooks/github", signedGitHub("push", body), len(body), len(body)/2)
	if resp := answer(t, conn); resp.StatusCode != http.StatusRequestTimeout {
		t.Errorf("status = %s, want 408", resp.Status)
	}
	if len(f.refresher.apps) > 0 {
		t.Errorf("refreshed %v", f.refresher.apps)
	}
}

func TestRequestsOverTheConcurrencyCapAreRefusedAfterSlotWait(t *testing.T) {
	f := newFixture(t).limited(2, time.Minute)
	addr := f.serve(t)
	body := githubPush("refs/heads/main")
	header := signedGitHub("push", body)
	var stalled []net.Conn
	for range 2 {
		stalled = append(stalled, stall(t, addr, "/hooks/github", header, len(body), 1))
	}
	slots := f.handler.(*Receiver).slots
	testenv.Eventually(t, time.Minute, "both stalled requests are served", slotsTaken(slots, 2))

	code, resp := f.post(t, "/hooks/github", header, body)
	if code != http.StatusServiceUnavailable || resp.Outcome != metrics.OutcomeThrottled {
		t.Errorf("a third request: answer = %d %+v, want 503", code, resp)
	}
	for _, conn := range stalled {
		conn.Close()
	}
	testenv.Eventually(t, time.Minute, "the stalled requests end", slotsTaken(slots, 0))
	if code, resp := f.post(t, "/hooks/github", header, body); code != http.StatusAccepted {
		t.Errorf("once the stalled requests ended: answer = %d %+v, want 202", code, resp)
	}
}

// slotsTaken is a check for testenv.Eventually that n requests are being
// served.
func slotsTaken(slots chan struct{}, n int) func(context.Context) error {
	return func(context.Context) error {
		if len(slots) != n {
			return fmt.Errorf("%d requests are served, want %d", len(slots), n)
		}
		return nil
	}
}
