package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/oci"
	"oras.land/oras-go/v2/registry/remote"

	"weir.dev/weir/internal/testenv"
)

// testOptions build the hello command, which builds in seconds, as the
// image of a fixed commit, into out.
func testOptions(out string) Options {
	return Options{
		SourceDir:  "../..",
		Package:    "./internal/image/testdata/hello",
		Repository: "ghcr.io/weir-dev/weir",
		Tag:        "v0.0.0-test",
		Source: Source{
			Revision: "0123456789abcdef0123456789abcdef01234567",
			Time:     time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
			URL:      "https://github.com/weir-dev/weir",
		},
		OutDir: out,
		Name:   "weir-image",
	}
}

// shared is one build of the test image, made by TestMain for the tests
// that only read it.
var shared struct {
	res Result
	err error
}

func TestMain(m *testing.M) {
	out, err := os.MkdirTemp("", "weir-image-test-")
	if err != nil {
		panic(err)
	}
	shared.res, shared.err = Build(context.Background(), testOptions(out))
	code := m.Run()
	os.RemoveAll(out)
	os.Exit(code)
}

func build(t *testing.T) Result {
	t.Helper()
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.res
}

func TestBuildIsReproducible(t *testing.T) {
	first := build(t)
	second, err := Build(t.Context(), testOptions(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if first.Index.Digest != second.Index.Digest {
		t.Errorf("index digest: first build %s, second %s", first.Index.Digest, second.Index.Digest)
	}
	if a, b := fileDigest(t, first.Archive), fileDigest(t, second.Archive); a != b {
		t.Errorf("archive digest: first build %x, second %x", a, b)
	}
}

func TestImageIsNonRootLabelledAndStaticForEachPlatform(t *testing.T) {
	res := build(t)
	store, err := oci.NewFromTar(t.Context(), res.Archive)
	if err != nil {
		t.Fatalf("read %s as an OCI layout: %v", res.Archive, err)
	}
	index := fetchJSON[ocispec.Index](t, store, resolve(t, store, "v0.0.0-test"))
	if got := index.Annotations[ocispec.AnnotationRevision]; got != testOptions("").Source.Revision {
		t.Errorf("index revision annotation = %q", got)
	}
	machines := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}
	if len(index.Manifests) != len(machines) {
		t.Fatalf("index has %d manifests, want one per platform of %v", len(index.Manifests), machines)
	}
	for _, desc := range index.Manifests {
		arch := desc.Platform.Architecture
		t.Run(arch, func(t *testing.T) {
			manifest := fetchJSON[ocispec.Manifest](t, store, desc)
			config := fetchJSON[ocispec.Image](t, store, manifest.Config)
			checkConfig(t, config, arch)
			files := layerFiles(t, store, manifest.Layers)
			checkStatic(t, files["weir"], machines[arch])
			if arch == runtime.GOARCH {
				checkCommit(t, files["weir"])
			}
			if h := files["tmp/"]; h == nil || h.mode != 0o1777 {
				t.Errorf("/tmp is %+v, want a directory of mode 1777", h)
			}
		})
	}
}

func checkConfig(t *testing.T, config ocispec.Image, arch string) {
	t.Helper()
	if config.OS != "linux" || config.Architecture != arch {
		t.Errorf("config platform %s/%s, want linux/%s", config.OS, config.Architecture, arch)
	}
	if config.Config.User != "65532:65532" {
		t.Errorf("config user %q, want 65532:65532", config.Config.User)
	}
	want := map[string]string{
		ocispec.AnnotationVersion:  "v0.0.0-test",
		ocispec.AnnotationRevision: "0123456789abcdef0123456789abcdef01234567",
		ocispec.AnnotationSource:   "https://github.com/weir-dev/weir",
		ocispec.AnnotationCreated:  "2026-01-02T03:04:05Z",
	}
	for k, v := range want {
		if got := config.Config.Labels[k]; got != v {
			t.Errorf("label %s = %q, want %q", k, got, v)
		}
	}
	if config.Created == nil || !config.Created.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("config created %v, want the commit time", config.Created)
	}
}

func checkStatic(t *testing.T, f *file, machine elf.Machine) {
	t.Helper()
	if f == nil {
		t.Fatal("the layer has no /weir")
	}
	bin, err := elf.NewFile(bytes.NewReader(f.body))
	if err != nil {
		t.Fatalf("/weir is not an ELF file: %v", err)
	}
	if bin.Machine != machine {
		t.Errorf("/weir is for %v, want %v", bin.Machine, machine)
	}
	for _, p := range bin.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("/weir has a program interpreter: it is not static")
		}
	}
	if f.mode != 0o755 {
		t.Errorf("/weir has mode %o, want 755", f.mode)
	}
}

// checkCommit runs the binary and finds the commit it was built from.
func checkCommit(t *testing.T, f *file) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "weir")
	if err := os.WriteFile(bin, f.body, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin).Output()
	if err != nil {
		t.Fatalf("run /weir: %v", err)
	}
	if got, want := strings.TrimSpace(string(out)), testOptions("").Source.Revision; got != want {
		t.Errorf("/weir says it was built from commit %q, want %q", got, want)
	}
}

type file struct {
	mode int64
	body []byte
}

// layerFiles reads the files of the image's layers by name.
func layerFiles(t *testing.T, store content.Fetcher, layers []ocispec.Descriptor) map[string]*file {
	t.Helper()
	files := map[string]*file{}
	for _, l := range layers {
		data, err := content.FetchAll(t.Context(), store, l)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(zr)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			files[h.Name] = &file{mode: h.Mode, body: body}
		}
	}
	return files
}

func resolve(t *testing.T, store *oci.ReadOnlyStore, ref string) ocispec.Descriptor {
	t.Helper()
	desc, err := store.Resolve(t.Context(), ref)
	if err != nil {
		t.Fatalf("resolve %s: %v", ref, err)
	}
	return desc
}

func fetchJSON[T any](t testing.TB, store content.Fetcher, desc ocispec.Descriptor) T {
	t.Helper()
	var v T
	data, err := content.FetchAll(t.Context(), store, desc)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s %s: %v", desc.MediaType, desc.Digest, err)
	}
	return v
}

func fileDigest(t *testing.T, path string) [sha256.Size]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(data)
}

// TestPushCopiesTheIndexWhole pushes the built index to a real registry,
// as a release does, and finds it there under the same digest, with the
// image of every platform.
func TestPushCopiesTheIndexWhole(t *testing.T) {
	res := build(t)
	reg := testenv.NewOCIRegistry(t, "", "")
	ref := reg.Addr() + "/weir-dev/weir:v0.0.0-test"
	pushed, err := Push(t.Context(), PushOptions{Layout: res.Layout, Tag: "v0.0.0-test", Reference: ref, PlainHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	if pushed.Digest != res.Index.Digest {
		t.Errorf("pushed %s, built %s", pushed.Digest, res.Index.Digest)
	}
	repo, err := remote.NewRepository(ref)
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	index := fetchJSON[ocispec.Index](t, repo, resolveRemote(t, repo, ref))
	for _, m := range index.Manifests {
		manifest := fetchJSON[ocispec.Manifest](t, repo, m)
		if _, err := content.FetchAll(t.Context(), repo, manifest.Layers[0]); err != nil {
			t.Errorf("layer of %s: %v", m.Platform.Architecture, err)
		}
	}
	if len(index.Manifests) != len(Platforms) {
		t.Errorf("the registry holds %d platforms, want %d", len(index.Manifests), len(Platforms))
	}
}

func resolveRemote(t *testing.T, repo *remote.Repository, ref string) ocispec.Descriptor {
	t.Helper()
	desc, err := repo.Resolve(t.Context(), ref)
	if err != nil {
		t.Fatalf("resolve %s: %v", ref, err)
	}
	return desc
}
