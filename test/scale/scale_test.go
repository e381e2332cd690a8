package scale

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	appsv1client "k8s.io/client-go/kubernetes/typed/apps/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
)

var (
	appsFlag  = flag.String("apps", "100,500", "Applications BenchmarkScale creates, 20 objects each; a comma-separated list runs one sub-benchmark each")
	restFlag  = flag.Duration("rest", time.Minute, "how long BenchmarkScale measures weir at rest, rounded up to whole intervals of the Applications (1m)")
	smokeFlag = flag.Bool("smoke", false, "run TestScaleSmoke, the harness at 3 Applications (a minute or two)")
	driftFlag = flag.Int("drifts", 20, "drifts BenchmarkScale heals at rest and under load; 0 measures no drift")
)

// BenchmarkScale runs the scenario once per iteration for each number of
// Applications in -apps, as sub-benchmarks apps=N, and reports their
// figures.
func BenchmarkScale(b *testing.B) {
	counts, err := parseApps(*appsFlag)
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range counts {
		b.Run(fmt.Sprintf("apps=%d", n), func(b *testing.B) {
			for range b.N {
				for _, f := range run(b, scenario{apps: n, interval: time.Minute, rest: *restFlag, drifts: *driftFlag}) {
					b.ReportMetric(f.value, f.unit)
				}
			}
		})
	}
}

// parseApps reads -apps: numbers of Applications, comma-separated.
func parseApps(s string) ([]int, error) {
	var counts []int
	for field := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("-apps=%q: %q is not a positive number of Applications", s, field)
		}
		counts = append(counts, n)
	}
	return counts, nil
}

// TestScaleSmoke runs the scenario with 3 Applications and short waits, so
// that the benchmark's harness keeps working.
func TestScaleSmoke(t *testing.T) {
	if !*smokeFlag {
		t.Skip("the harness's smoke test runs with -smoke (make bench-scale-smoke)")
	}
	figures := run(t, scenario{apps: 3, interval: 5 * time.Second, rest: 2 * time.Second, drifts: 2})
	wants := []string{"s-create-to-ready", "s-commit-to-applied", "requests-per-object-create", "requests-per-object-commit", "requests-per-interval-at-rest", "listings-per-interval-at-rest", "MiB-rss", "s-drift-healed-p99", "s-webhook-to-applied-50"}
	if *controllerFlag == "weir" {
		wants = append(wants, "s-mean-sync", "s-mean-phase-dry-run")
	}
	for _, want := range wants {
		if !slices.ContainsFunc(figures, func(f figure) bool { return f.unit == want }) {
			t.Errorf("no figure %s in %v", want, figures)
		}
	}
}

// scenario is what one run measures.
type scenario struct {
	apps     int           // Applications of 20 objects
	interval time.Duration // the Applications' spec.sync.interval
	rest     time.Duration // at-rest measurement, rounded up to whole intervals
	drifts   int           // drifts healed at rest, and again under load
}

// figure is one measured value and its unit, as benchmarks report them.
type figure struct {
	value float64
	unit  string
}

// bench is a running scenario: the repositories, the controller, the
// apps.
type bench struct {
	t           testing.TB
	c           client.Client
	git         *testenv.GitHTTPServer
	repo        *testenv.GitRepo // the apps' repository
	big         *testenv.GitRepo // the 50-object app's repository
	interval    time.Duration    // the apps' interval
	deployments appsv1client.AppsV1Interface
	ctrl        gitops
	apps        []string // the apps' namespaces
	figures     []figure
}

func run(t testing.TB, s scenario) []figure {
	b := setUp(t, s.apps)
	b.interval = s.interval
	b.createToReady(s.apps)
	b.commitToApplied(1)
	if s.rest > 0 {
		b.atRest(s.rest)
	}
	if s.drifts > 0 {
		b.driftHealed("at-rest", s.drifts, nil)
		b.driftHealed("under-load", s.drifts, func() { b.commitToApplied(2) })
	}
	b.webhookToApplied50()
	b.syncProfile(nil, "")
	for _, f := range b.figures {
		t.Logf("%12.3f %s", f.value, f.unit)
	}
	return b.figures
}

func (b *bench) report(value float64, unit string) {
	b.figures = append(b.figures, figure{value, unit})
}

// setUp makes both repositories, serves them over http-backend, and starts
// the controller.
func setUp(t testing.TB, apps int) *bench {
	b := &bench{t: t, c: testenv.Client(t, weirv1.AddToScheme)}
	var err error
	if b.deployments, err = appsv1client.NewForConfig(testenv.Config(t)); err != nil {
		t.Fatal(err)
	}
	b.repo, b.big = testenv.NewGitRepo(t), testenv.NewGitRepo(t)
	if filepath.Dir(b.repo.Dir) != filepath.Dir(b.big.Dir) {
		t.Fatal("the repositories are not in one directory")
	}
	b.git = testenv.NewGitHTTPServer(t, filepath.Dir(b.repo.Dir), "", "", false)
	for i := range apps {
		writeApp(b.repo, i, 0)
	}
	b.repo.Commit("apps")
	for name, content := range fiftyObjects(0) {
		b.big.Write(name, content)
	}
	b.big.Commit("fifty objects")
	b.ctrl = startGitops(b)
	return b
}

// createToReady creates the Applications and times them until all are
// Ready at the repository's head, counting the controller's API requests
// per object meanwhile.
func (b *bench) createToReady(n int) {
	head := b.repo.Head()
	before := b.scrape()
	start := time.Now()
	for i := range n {
		b.apps = append(b.apps, b.newApp(b.repo, fmt.Sprintf("apps/app-%d", i)))
	}
	b.awaitApplied(b.apps, head)
	b.report(time.Since(start).Seconds(), "s-create-to-ready")
	b.reportRequests(before, "requests-per-object-create")
}

// reportRequests reports the controller's API requests since before, per
// object of the Applications.
func (b *bench) reportRequests(before metrics, unit string) {
	sent := b.scrape().sum("rest_client_requests_total") - before.sum("rest_client_requests_total")
	b.report(sent/float64(20*len(b.apps)), unit)
}

// commitToApplied changes every app's ConfigMaps in one commit, sends the
// push webhook, and times until every Application applied it.
func (b *bench) commitToApplied(gen int) {
	b.commitAll(gen)()
}

// commitAll changes every app's ConfigMaps in one commit and sends the
// push webhook. The function it returns waits until every Application
// applied the commit, and reports how long that took from the push.
func (b *bench) commitAll(gen int) (await func()) {
	for i := range b.apps {
		writeApp(b.repo, i, gen)
	}
	sha := b.repo.Commit(fmt.Sprintf("apps: gen %d", gen))
	before := b.scrape()
	start := time.Now()
	b.notify(b.repo)
	return func() {
		b.awaitApplied(b.apps, sha)
		b.report(time.Since(start).Seconds(), fmt.Sprintf("s-commit-to-applied-gen%d", gen))
		if gen == 1 {
			b.report(time.Since(start).Seconds(), "s-commit-to-applied")
			b.reportRequests(before, "requests-per-object-commit")
		}
	}
}

// atRest measures, over whole intervals of the Applications with nothing
// changing, the controller's API requests, the ref listings the Git server
// answered and its CPU, each per interval, and then its heap and RSS. A
// window shorter than an interval would see none of the polls: every
// Application synced the last commit at once, and polls next one interval
// later.
func (b *bench) atRest(rest time.Duration) {
	n := restIntervals(rest, b.interval)
	before, listings := b.scrape(), b.git.RefListings()
	b.t.Logf("at rest for %d intervals of %s", n, b.interval)
	time.Sleep(time.Duration(n) * b.interval)
	after := b.scrape()
	b.report(perInterval(after.sum("rest_client_requests_total")-before.sum("rest_client_requests_total"), n), "requests-per-interval-at-rest")
	b.report(perInterval(float64(b.git.RefListings()-listings), n), "listings-per-interval-at-rest")
	b.report(perInterval(after.sum("process_cpu_seconds_total")-before.sum("process_cpu_seconds_total"), n), "s-cpu-per-interval-at-rest")
	b.report(after.sum("go_memstats_heap_inuse_bytes")/(1<<20), "MiB-heap")
	b.report(after.sum("process_resident_memory_bytes")/(1<<20), "MiB-rss")
	b.report(after.sum("go_memstats_heap_inuse_bytes")/float64(len(b.apps))/(1<<10), "KiB-heap-per-app")
	if anon, file, err := b.ctrl.rss(); err == nil {
		b.report(anon/(1<<20), "MiB-rss-anon")
		b.report(file/(1<<20), "MiB-rss-file")
	}
	if w, ok := b.ctrl.(*weir); ok && *heapProfileFlag != "" {
		if err := w.writeHeapProfile(*heapProfileFlag); err != nil {
			b.t.Errorf("write the heap profile: %v", err)
		}
	}
}

// restIntervals is how many whole intervals a measure at rest of rest
// lasts: rest rounded up, at least one.
func restIntervals(rest, interval time.Duration) int {
	return max(1, int((rest+interval-1)/interval))
}

// perInterval is total, counted over n intervals, per interval.
func perInterval(total float64, n int) float64 {
	return total / float64(n)
}

// driftHealed scales n Deployments to 3 replicas one after the other and
// times each until weir set it back to 1, with load (when not nil) running
// meanwhile. It reports the median and the 99th percentile.
func (b *bench) driftHealed(name string, n int, load func()) {
	done := make(chan struct{})
	if load != nil {
		go func() { defer close(done); load() }()
	} else {
		close(done)
	}
	var healed []time.Duration
	for k := range n {
		healed = append(healed, b.drift(b.apps[k%len(b.apps)]))
	}
	<-done
	slices.Sort(healed)
	b.report(healed[len(healed)/2].Seconds(), "s-drift-healed-p50-"+name)
	b.report(healed[(len(healed)*99)/100].Seconds(), "s-drift-healed-p99-"+name)
	if name == "at-rest" {
		b.report(healed[(len(healed)*99)/100].Seconds(), "s-drift-healed-p99")
	}
}

// drift scales ns's Deployment and returns how long the controller took
// to heal it: from the scale's answer to the watch event of the
// controller's write that sets the replicas back, which the watch, started
// at the scale's resourceVersion, sees however soon it came. Polling
// instead added the bench's own read, queued at the API server with the
// controller's, to every figure.
func (b *bench) drift(ns string) time.Duration {
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"}}
	patch := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"replicas":3}}`))
	if err := b.c.Patch(context.Background(), dep, patch, client.FieldOwner("scale-bench")); err != nil {
		b.t.Fatalf("scale Deployment %s/web: %v", ns, err)
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	w, err := b.deployments.Deployments(ns).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=web", ResourceVersion: dep.ResourceVersion})
	if err != nil {
		b.t.Fatalf("watch Deployment %s/web: %v", ns, err)
	}
	defer w.Stop()
	for e := range w.ResultChan() {
		if d, ok := e.Object.(*appsv1.Deployment); ok && d.Spec.Replicas != nil && *d.Spec.Replicas == 1 {
			return time.Since(start)
		}
	}
	b.t.Fatalf("Deployment %s/web: not healed within 5m", ns)
	return 0
}

// webhookToApplied50 times commits to a 50-object app, each from its push
// webhook until the app is Ready at it: five with nothing else syncing,
// and then up to five while every other app syncs a commit of its own
// (gen 3), as many as fit before that ends. It reports the median and the
// slowest of each, and the profile of the syncs of the five quiet ones. It polls every 10 ms, so that the poll adds little to
// the figures.
func (b *bench) webhookToApplied50() {
	app := b.newApp(b.big, "")
	b.awaitApplied([]string{app}, b.big.Head())
	before := b.scrape()
	b.reportQuantiles(b.webhooks(app, 1, nil), "s-webhook-to-applied-50")
	b.syncProfile(before, "-webhook-50")
	await, loading := b.commitAll(3), make(chan struct{})
	go func() { defer close(loading); await() }()
	b.reportQuantiles(b.webhooks(app, 6, loading), "s-webhook-to-applied-50-under-load")
	<-loading
}

// webhooks commits to app's repository five times from generation gen,
// while loading (when not nil) is open, and times each from its push
// notification until app is Ready at it.
func (b *bench) webhooks(app string, gen int, loading <-chan struct{}) []time.Duration {
	var took []time.Duration
	for ; len(took) < 5 && open(loading); gen++ {
		for name, content := range fiftyObjects(gen) {
			b.big.Write(name, content)
		}
		sha := b.big.Commit(fmt.Sprintf("gen %d", gen))
		start := time.Now()
		b.notify(b.big)
		b.awaitReady(app, sha)
		took = append(took, time.Since(start))
	}
	return took
}

// open reports whether ch, when not nil, is still open.
func open(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return false
	default:
		return true
	}
}

// reportQuantiles reports the median of took as unit, and its slowest as
// unit-max; nothing when took is empty.
func (b *bench) reportQuantiles(took []time.Duration, unit string) {
	if len(took) == 0 {
		return
	}
	slices.Sort(took)
	b.report(took[len(took)/2].Seconds(), unit)
	b.report(took[len(took)-1].Seconds(), unit+"-max")
}

// awaitReady polls app every 10 ms until it is Ready at sha.
func (b *bench) awaitReady(app, sha string) {
	var err error
	for deadline := time.Now().Add(5 * time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if err = b.ctrl.applied(context.Background(), app, sha); err == nil {
			return
		}
	}
	b.t.Fatalf("not Ready at %s within 5m: %v", sha, err)
}

// syncProfile reports how many syncs ran since before (all of them when
// before is nil) and their mean time, from the controller's
// weir_sync_duration_seconds, and the mean time of a sync's phases, from
// weir_sync_phase_duration_seconds: resolve, render, dry run (the whole
// set), apply and wait (each per stage), prune and status. Each unit ends
// with suffix.
func (b *bench) syncProfile(before metrics, suffix string) {
	m := b.scrape()
	if syncs := m.count("weir_sync_duration_seconds") - before.count("weir_sync_duration_seconds"); syncs > 0 {
		b.report(syncs, "syncs"+suffix)
		b.report((m.sum("weir_sync_duration_seconds")-before.sum("weir_sync_duration_seconds"))/syncs, "s-mean-sync"+suffix)
	}
	for _, s := range m["weir_sync_phase_duration_seconds"].GetMetric() {
		for _, l := range s.GetLabel() {
			if l.GetName() != "phase" {
				continue
			}
			h, phase := s.GetHistogram(), l.GetValue()
			count := float64(h.GetSampleCount()) - before.count("weir_sync_phase_duration_seconds", "phase", phase)
			if count > 0 {
				sum := h.GetSampleSum() - before.sum("weir_sync_phase_duration_seconds", "phase", phase)
				b.report(sum/count, "s-mean-phase-"+phase+suffix)
			}
		}
	}
}

func (b *bench) scrape() metrics {
	m, err := b.ctrl.scrape()
	if err != nil {
		b.t.Fatalf("scrape the controller's metrics: %v", err)
	}
	return m
}

// newApp deploys an app of repo's path in a namespace of its own, polling
// every b.interval and healing drift, and returns that namespace.
func (b *bench) newApp(repo *testenv.GitRepo, path string) string {
	ns := testenv.Namespace(b.t)
	if err := b.ctrl.deploy(context.Background(), repo, path, ns, b.interval); err != nil {
		b.t.Fatal(err)
	}
	return ns
}

// awaitApplied waits until every app has been Ready at sha. An app is
// checked until it is once, not all of them until they are at the same
// moment: Flux's Kustomizations are Ready Unknown while they reconcile,
// every interval, so that with many apps some always are.
func (b *bench) awaitApplied(apps []string, sha string) {
	pending := slices.Clone(apps)
	b.await(30*time.Minute, fmt.Sprintf("%d apps Ready at %s", len(apps), sha), func(ctx context.Context) error {
		var last error
		pending = slices.DeleteFunc(pending, func(app string) bool {
			err := b.ctrl.applied(ctx, app, sha)
			if err != nil {
				last = err
			}
			return err == nil
		})
		if len(pending) > 0 {
			return fmt.Errorf("%d of %d apps not Ready at %s yet: %w", len(pending), len(apps), sha, last)
		}
		return nil
	})
}

// await calls check every 100ms until it passes, failing after timeout.
func (b *bench) await(timeout time.Duration, what string, check func(context.Context) error) {
	b.t.Helper()
	testenv.Eventually(b.t, timeout, what, check)
}

// notify tells the controller that repo's main moved.
func (b *bench) notify(repo *testenv.GitRepo) {
	if err := b.ctrl.notify(context.Background(), repo); err != nil {
		b.t.Fatalf("notify %s of the push: %v", *controllerFlag, err)
	}
}

// writeApp writes app i's 20 objects: 18 ConfigMaps holding gen, a
// Deployment and a Service.
func writeApp(repo *testenv.GitRepo, i, gen int) {
	docs := []string{deployment("web"), service("web")}
	for j := range 18 {
		docs = append(docs, configMap(fmt.Sprintf("cfg-%d", j), gen))
	}
	repo.Write(fmt.Sprintf("apps/app-%d/app.yaml", i), strings.Join(docs, "---\n"))
}

// fiftyObjects is an app of 50 objects in 10 files: 10 Deployments, 10
// Services and 30 ConfigMaps holding gen.
func fiftyObjects(gen int) map[string]string {
	files := map[string]string{}
	for i := range 10 {
		name := fmt.Sprintf("svc-%d", i)
		docs := []string{deployment(name), service(name)}
		for j := range 3 {
			docs = append(docs, configMap(fmt.Sprintf("%s-cfg-%d", name, j), gen))
		}
		files[name+".yaml"] = strings.Join(docs, "---\n")
	}
	return files
}

func configMap(name string, gen int) string {
	return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n  gen: %q\n", name, fmt.Sprint(gen))
}

func deployment(name string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
spec:
  replicas: 1
  selector:
    matchLabels: {app: %[1]s}
  template:
    metadata:
      labels: {app: %[1]s}
    spec:
      containers:
      - name: app
        image: nginx:1.27
`, name)
}

func service(name string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata:\n  name: %[1]s\nspec:\n  selector: {app: %[1]s}\n  ports:\n  - port: 80\n", name)
}
