// Package ui tests weir's web UI in a real browser (Debian's headless
// chromium, driven by chromedp) against the local control plane and the
// controller running in this process: what a user sees and may do.
package ui

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"

	"weir.dev/weir/internal/isolate"
	"weir.dev/weir/internal/livediff"
	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/internal/ui"
	"weir.dev/weir/test/harness"
)

func TestMain(m *testing.M) {
	// The controller and the live diff render in this binary, re-executed.
	isolate.ServeIfWorker()
	ctrl.SetLogger(logr.Discard())
	// One remote cluster, started beside weir's, for the pages of an
	// Application that syncs there.
	testenv.MainWithRemotes(m, 1, installCRDs, harness.Setup(harness.Options{}))
}

// installCRDs installs every CRD of weir's.
func installCRDs(cfg *rest.Config) (func(), error) {
	files, err := filepath.Glob("../../config/crd/bases/*.yaml")
	if err != nil {
		return nil, err
	}
	return func() {}, testenv.InstallCRDFiles(cfg, files...)
}

// serveUI serves the UI as weir ui does, with cfg's identity (or, with
// login, each browser's token), and returns its address.
func serveUI(t *testing.T, cfg *rest.Config, login bool) string {
	t.Helper()
	dir := t.TempDir()
	srv, err := ui.New(ui.Options{
		Config: cfg, Login: login,
		Diff: livediff.Options{SourceDir: filepath.Join(dir, "sources"), ChartDir: filepath.Join(dir, "charts"), AllowFileSources: true},
		Log:  slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return hs.URL
}

// browser starts a headless chromium for the test, ended with it; every
// step of the test must finish within timeout.
func browser(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	testenv.Cluster(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox, // tests may run as root
		chromedp.DisableGPU,
		chromedp.WindowSize(1280, 900),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

func chromiumPath(t *testing.T) string {
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatal("no chromium: install Debian's chromium package (.ci/run does) or set CHROMIUM")
	return ""
}

// screenshot saves the page as screenshots/<test>-<name>.png beside this
// package (not committed), for a person to look at.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := "screenshots"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "-")+"-"+name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(path)
	t.Logf("screenshot: %s", abs)
}

// waitText waits until the page's text holds want.
func waitText(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	waitJS(t, ctx, "the page shows "+jsString(want), "document.body.innerText.includes("+jsString(want)+")")
}

// waitJS waits until the expression is true in the page.
func waitJS(t *testing.T, ctx context.Context, what, js string) {
	t.Helper()
	for {
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingInterval(50*time.Millisecond)))
		if err == nil {
			return
		}
		// A form's submission navigates while the poll runs, which ends
		// it with an error: poll the new page, until the test's deadline.
		if ctx.Err() == nil {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		text, _ := chromedp.Run(context.WithoutCancel(ctx), chromedp.Evaluate[string]("document.body.innerText"))
		t.Fatalf("%s: never so: %v; the page shows:\n%s", what, err, text)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
