package promotion

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/source"
	"weir.dev/weir/internal/valuewrite"
)

// maxValuesFile bounds the files values are read from, as gitwrite bounds
// the files it edits.
const maxValuesFile = 4 << 20

// Source checks out the revisions the stages run, to read their values;
// it may take the refs of a repository as another Fetch listed them since.
type Source interface {
	FetchSince(ctx context.Context, url string, ref weirv1.GitRef, creds source.Credentials, since time.Time) (source.Artifact, error)
}

// fileValues are the values of one file of a stage.
type fileValues struct {
	// file is the path of the file from the repository's root.
	file   string
	values []valuewrite.Value
}

// readValues reads the values of p in the files of app, at the revision
// it applied last; none when it applied none.
func (pr *Promoter) readValues(ctx context.Context, p *weirv1.Pipeline, app *weirv1.Application) ([]fileValues, error) {
	rev := app.Status.LastAppliedRevision
	if len(p.Spec.Values) == 0 || rev == "" {
		return nil, nil
	}
	commit := commitOf(rev)
	if commit == "" {
		return nil, fmt.Errorf("Application %s: revision %s names no commit", app.Name, rev)
	}
	creds, err := pr.Credentials.Credentials(ctx, app)
	if err != nil {
		return nil, err
	}
	// A commit never moves, so the refs another Fetch of the repository
	// listed lately will do.
	a, err := pr.Source.FetchSince(ctx, app.Spec.Source.URL, weirv1.GitRef{Commit: commit}, creds, time.Time{})
	if err != nil {
		return nil, fmt.Errorf("Application %s at %s: %w", app.Name, rev, err)
	}
	out := make([]fileValues, len(p.Spec.Values))
	for i, v := range p.Spec.Values {
		file, err := stageFile(app, v.File)
		if err != nil {
			return nil, err
		}
		content, err := readFile(filepath.Join(a.Dir, filepath.FromSlash(file)))
		if err == nil {
			out[i].values, err = valuewrite.Read(content, v.Paths)
		}
		if err != nil {
			return nil, fmt.Errorf("%s at %s: %w", file, rev, err)
		}
		out[i].file = file
	}
	return out, nil
}

// commitOf is the commit a revision names, "main@sha1:<hex>" or
// "main@sha1:<hex>, chart web@1.2.0".
func commitOf(rev string) string {
	_, after, _ := strings.Cut(rev, "sha1:")
	hex, _, _ := strings.Cut(after, ",")
	return strings.TrimSpace(hex)
}

// stageFile is the path from the repository's root of file in app's path.
func stageFile(app *weirv1.Application, file string) (string, error) {
	f := path.Clean(file)
	if path.IsAbs(f) || f == ".." || strings.HasPrefix(f, "../") {
		return "", fmt.Errorf("values file %s: not within the path of Application %s", file, app.Name)
	}
	return strings.TrimPrefix(path.Join(path.Clean("/"+app.Spec.Source.Path), f), "/"), nil
}

// readFile reads a file of a checkout, at most maxValuesFile bytes. Its
// errors do not name the checkout's directory.
func readFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, err
	}
	defer func() { _ = f.Close() }()
	b, err := io.ReadAll(io.LimitReader(f, maxValuesFile+1))
	if err == nil && len(b) > maxValuesFile {
		err = fmt.Errorf("larger than %d bytes", maxValuesFile)
	}
	return b, err
}

// shown is each value as a stage's status shows it: "FILE PATH=VALUE".
func shown(p *weirv1.Pipeline, files []fileValues) []string {
	var out []string
	for i, f := range files {
		for _, v := range f.values {
			out = append(out, p.Spec.Values[i].File+" "+v.String())
		}
	}
	return out
}
