package controller

import (
	"errors"
	"fmt"
	"testing"
	"time"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/desired"
	"weir.dev/weir/internal/source"
)

func TestErrorReasons(t *testing.T) {
	loading := func(stage desired.Stage) error {
		return fmt.Errorf("load: %w", &desired.Error{Stage: stage, Err: errors.New("failed")})
	}
	fetching := func(err error) error {
		return fmt.Errorf("load: %w", &desired.Error{Stage: desired.StageFetch, Err: err})
	}
	// What a Fetcher that was not told to allow them says of file:// URLs.
	_, fileRefused := source.NewFetcher(t.TempDir(), source.Options{}).Fetch(t.Context(), "file:///etc/weir", weirv1.GitRef{}, source.Credentials{})
	tests := []struct {
		name   string
		err    error
		reason string
		stall  bool
	}{
		{"fetch", loading(desired.StageFetch), ReasonArtifactFailed, false},
		{"fetch timed out", fetching(&source.TimeoutError{After: time.Minute}), ReasonArtifactFailed, false},
		{"file source not allowed", fetching(fileRefused), ReasonSourceNotAllowed, true},
		{"checkout too large", fetching(fmt.Errorf("export: %w: big.bin", source.ErrCheckoutTooLarge)), ReasonArtifactFailed, true},
		{"source credentials", loading(desired.StageCredentials), ReasonArtifactFailed, false},
		{"decryption keys", loading(desired.StageDecryptionKeys), ReasonDecryptionFailed, false},
		{"file not decrypted", loading(desired.StageDecrypt), ReasonDecryptionFailed, true},
		{"render", loading(desired.StageRender), ReasonRenderFailed, true},
		{"verification keys", loading(desired.StageVerificationKeys), ReasonVerificationFailed, false},
		{"signature refused", loading(desired.StageVerify), ReasonVerificationFailed, true},
		{"validation", stalled(ReasonValidationFailed, errors.New("invalid")), ReasonValidationFailed, true},
		{"apply", reason(ReasonApplyFailed, errors.New("conflict")), ReasonApplyFailed, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := reasonOf(tt.err); got != tt.reason {
				t.Errorf("reason %q, want %q", got, tt.reason)
			}
			if got := isStalling(tt.err); got != tt.stall {
				t.Errorf("stalling %v, want %v", got, tt.stall)
			}
		})
	}
}
