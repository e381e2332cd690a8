package ui

import (
	"errors"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// reasonOf is the API server's message for a refusal, else the error.
func reasonOf(err error) string {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return status.Status().Message
	}
	return err.Error()
}

// statusOf is the HTTP status a failed request answers with: the API
// server's own for its refusals (403, 404, 401), else 502.
func statusOf(err error) int {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		if code := int(status.Status().Code); code >= 400 && code < 500 {
			return code
		}
	}
	return http.StatusBadGateway
}
