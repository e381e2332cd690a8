package isolate

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"weir.dev/weir/internal/decrypt"
	"weir.dev/weir/internal/decrypt/decrypttest"
	"weir.dev/weir/internal/render"
)

// TestRenderSameAsInProcess renders a kustomization and a chart in a
// worker and expects what render.Render returns in-process.
func TestRenderSameAsInProcess(t *testing.T) {
	for _, tc := range []struct {
		path string
		opts render.Options
	}{
		{path: "kustomize/overlays/prod"},
		{path: "helm/bench", opts: render.Options{Type: render.TypeHelm, Helm: &render.Helm{ReleaseName: "bench", Namespace: "shop"}}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			want, err := render.Render(t.Context(), "../render/testdata", tc.path, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := (&Renderer{}).Render(t.Context(), "../render/testdata", tc.path, tc.opts, decrypt.New(nil))
			if err != nil {
				t.Fatal(err)
			}
			// DeepEqual, unlike the JSON, tells int64 from float64.
			if !reflect.DeepEqual(got, want) {
				t.Errorf("isolated render differs from the in-process one:\n%s\nwant:\n%s", marshal(t, got), marshal(t, want))
			}
		})
	}
}

// TestRenderDecrypts hands the keys to the worker, expects the decrypted
// Secret, and the parent's Decryptor to redact its values; without the
// keys, the error is still a *decrypt.Error.
func TestRenderDecrypts(t *testing.T) {
	alice := decrypttest.NewAgeKey(t)
	const password = "correct-horse-battery-staple"
	root := t.TempDir()
	secret := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: " + password + "\n"
	if err := os.WriteFile(filepath.Join(root, "secret.yaml"),
		decrypttest.Encrypt(t, "secret.yaml", []byte(secret), decrypttest.SecretRegex, alice), 0o644); err != nil {
		t.Fatal(err)
	}
	keys, err := decrypt.ParseKeys(map[string][]byte{"age.agekey": alice.Private})
	if err != nil {
		t.Fatal(err)
	}
	dec := decrypt.New(keys)
	objs, err := (&Renderer{}).Render(t.Context(), root, "", render.Options{}, dec)
	if err != nil {
		t.Fatal(err)
	}
	if got, _, _ := unstructured.NestedString(objs[0].Object, "stringData", "password"); got != password {
		t.Errorf("password = %q, want the decrypted one", got)
	}
	if got := dec.Redact(errors.New("bad value " + password)).Error(); strings.Contains(got, password) {
		t.Errorf("the parent's Decryptor does not redact what the worker decrypted: %s", got)
	}

	_, err = (&Renderer{}).Render(t.Context(), root, "", render.Options{}, decrypt.New(nil))
	if de := (*decrypt.Error)(nil); !errors.As(err, &de) || de.File != "secret.yaml" {
		t.Errorf("Render without keys = %v, want a *decrypt.Error for secret.yaml", err)
	}
}

// TestRenderStopsHelmBomb renders a 142-byte template that writes 100 GB.
// In-process, such a template ran on for half a minute and took 1.5 GB
// before the output bound judged it; the worker must be stopped by its
// memory limit or its timeout, whichever comes first, and the parent's
// memory must not grow with it.
func TestRenderStopsHelmBomb(t *testing.T) {
	opts := render.Options{Type: render.TypeHelm, Timeout: 5 * time.Second, MaxOutputBytes: 1 << 20}
	before := totalAlloc()
	start := time.Now()
	_, err := (&Renderer{MaxMemoryBytes: 256 << 20}).Render(t.Context(), "testdata", "helm-bomb", opts, decrypt.New(nil))
	took := time.Since(start)
	allocated := totalAlloc() - before
	if err == nil || !strings.Contains(err.Error(), "render helm-bomb: ") ||
		!strings.Contains(err.Error(), "more than the 256 MiB of memory") && !strings.Contains(err.Error(), "took longer than 5s") {
		t.Errorf("Render = %v, want the memory limit or the timeout", err)
	}
	if limit := opts.Timeout + waitDelay + 2*time.Second; took > limit {
		t.Errorf("Render returned after %s, more than %s", took, limit)
	}
	if allocated > 16<<20 {
		t.Errorf("the parent allocated %d MiB during the render", allocated>>20)
	}
	t.Logf("%v after %s; the parent allocated %d KiB, peak RSS %d MiB", err, took.Round(time.Millisecond), allocated>>10, peakRSS()>>20)
	assertNoChildren(t)
}

// TestRenderTimeoutLeavesNoProcess renders a template that loops without
// writing anything, and expects the worker gone when Render returns.
func TestRenderTimeoutLeavesNoProcess(t *testing.T) {
	opts := render.Options{Type: render.TypeHelm, Timeout: time.Second}
	_, err := (&Renderer{}).Render(t.Context(), "testdata", "helm-spin", opts, decrypt.New(nil))
	if err == nil || err.Error() != "render helm-spin: rendering took longer than 1s" {
		t.Errorf("Render = %v, want the timeout", err)
	}
	assertNoChildren(t)
}

// TestRenderBoundsAnswer renders more objects, as JSON, than the output
// bound allows, and expects the worker killed and the bound named.
func TestRenderBoundsAnswer(t *testing.T) {
	opts := render.Options{MaxOutputBytes: 100}
	_, err := (&Renderer{}).Render(t.Context(), "../render/testdata", "kustomize/overlays/prod", opts, decrypt.New(nil))
	want := "render kustomize/overlays/prod: the render produced more than the 100 bytes one render may produce"
	if err == nil || err.Error() != want {
		t.Errorf("Render = %v, want %q", err, want)
	}
}

// assertNoChildren fails unless no process is a child of the test's.
func assertNoChildren(t *testing.T) {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil || len(stats) == 0 {
		t.Skip("no /proc to list processes")
	}
	self := strconv.Itoa(os.Getpid())
	for _, name := range stats {
		data, err := os.ReadFile(name)
		if err != nil {
			continue // Gone since.
		}
		// pid (comm) state ppid ...; comm may hold spaces.
		fields := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
		if len(fields) > 1 && fields[1] == self {
			t.Errorf("process %s is still running: %s", filepath.Base(filepath.Dir(name)), data)
		}
	}
}

// totalAlloc is how many bytes the process has allocated on the heap.
func totalAlloc() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

// peakRSS is the process's peak resident set size (VmHWM), 0 where unknown.
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(data)) {
		if kb, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(kb), " kB"), 10, 64)
			return n << 10
		}
	}
	return 0
}

func marshal(t *testing.T, objs []*unstructured.Unstructured) []byte {
	t.Helper()
	data, err := json.MarshalIndent(objs, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestRenderSurvivesThreadExit ends OS threads of the parent while a
// worker renders: Linux sends a child its parent-death signal when the
// thread that started it exits, so a worker must not be killed because
// some goroutine ended its locked thread.
func TestRenderSurvivesThreadExit(t *testing.T) {
	opts := render.Options{Type: render.TypeHelm, Timeout: 2 * time.Second}
	done := make(chan error, 1)
	go func() {
		_, err := (&Renderer{}).Render(t.Context(), "testdata", "helm-spin", opts, decrypt.New(nil))
		done <- err
	}()
	time.Sleep(500 * time.Millisecond)
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			// A goroutine that exits locked takes its thread with it; it
			// holds the thread while it sleeps, so that the others take
			// the idle ones.
			runtime.LockOSThread()
			time.Sleep(10 * time.Millisecond)
		})
	}
	wg.Wait()
	if err := <-done; err == nil || err.Error() != "render helm-spin: rendering took longer than 2s" {
		t.Errorf("Render = %v, want the timeout", err)
	}
}
