package image

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// SourceOf describes the commit checked out in dir, published at url.
// SOURCE_DATE_EPOCH, when set, replaces the commit time, as
// reproducible-builds.org asks.
func SourceOf(ctx context.Context, dir, url string) (Source, error) {
	out, err := git(ctx, dir, "log", "-1", "--format=%H %ct")
	if err != nil {
		return Source{}, err
	}
	revision, epoch, _ := strings.Cut(out, " ")
	if v := os.Getenv("SOURCE_DATE_EPOCH"); v != "" {
		epoch = v
	}
	seconds, err := strconv.ParseInt(epoch, 10, 64)
	if err != nil {
		return Source{}, fmt.Errorf("source date %q: %w", epoch, err)
	}
	status, err := git(ctx, dir, "status", "--porcelain", "--untracked-files=no")
	if err != nil {
		return Source{}, err
	}
	if status != "" {
		revision += "-dirty"
	}
	return Source{Revision: revision, Time: time.Unix(seconds, 0).UTC(), URL: url}, nil
}

func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s in %s: %w", strings.Join(args, " "), dir, err)
	}
	return strings.TrimSpace(string(out)), nil
}
