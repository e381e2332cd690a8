package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// maxErrorBody bounds what is read of a refusal's body: the receiver's
// reason, not a page.
const maxErrorBody = 512

// poster posts JSON to a receiver.
type poster struct {
	client *http.Client
	// what names the receiver in errors ("Slack", "GitHub"): never its
	// URL, which may be the secret.
	what string
}

// postJSON posts v as JSON to address with header set, and returns an
// error naming the receiver and the status when it is not a 2xx; one that
// trying again cannot fix wraps ErrPermanent.
func (p poster) postJSON(ctx context.Context, address string, header http.Header, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode the message to %s: %w", p.what, err)
	}
	return p.post(ctx, address, header, body)
}

func (p poster) post(ctx context.Context, address string, header http.Header, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, address, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: the address of %s is not a URL", ErrPermanent, p.what)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		// url.Error names the URL, which may hold the secret.
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("post to %s: %w", p.what, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	switch {
	case resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return fmt.Errorf("%s answered %s: %s", p.what, resp.Status, bytes.TrimSpace(msg))
	default:
		return fmt.Errorf("%w: %s answered %s: %s", ErrPermanent, p.what, resp.Status, bytes.TrimSpace(msg))
	}
}
