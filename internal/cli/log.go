package cli

import (
	"io"
	"log/slog"

	"github.com/go-logr/logr"
)

// newLogger writes structured logs as key=value text.
func newLogger(w io.Writer) logr.Logger {
	return logr.FromSlogHandler(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}
