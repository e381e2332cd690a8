package controller

import (
	"errors"
	"fmt"
	"testing"

	"weir.dev/weir/internal/desired"
)

func TestErrorReasons(t *testing.T) {
	loading := func(stage desired.Stage) error {
		return fmt.Errorf("load: %w", &desired.Error{Stage: stage, Err: errors.New("failed")})
	}
	tests := []struct {
		name   string
		err    error
		reason string
		stall  bool
	}{
		{"fetch", loading(desired.StageFetch), ReasonArtifactFailed, false},
		{"source credentials", loading(desired.StageCredentials), ReasonArtifactFailed, false},
		{"decryption keys", loading(desired.StageDecryptionKeys), ReasonDecryptionFailed, false},
		{"file not decrypted", loading(desired.StageDecrypt), ReasonDecryptionFailed, true},
		{"render", loading(desired.StageRender), ReasonRenderFailed, true},
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
