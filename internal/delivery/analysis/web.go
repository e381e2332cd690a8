package analysis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/util/jsonpath"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Limits of web metrics.
const (
	defaultWebTimeout = 10 * time.Second
	// maxWebBody bounds the document read; a metric endpoint that sends
	// more is misconfigured.
	maxWebBody = 1 << 20
)

// secretPattern matches {{secret.NAME.KEY}}: a key of a Secret in the
// Rollout's namespace. NAME ends at the first dot.
var secretPattern = regexp.MustCompile(`\{\{\s*secret\.([^.{}\s]+)\.([^{}\s]+)\s*\}\}`)

// webProvider fetches a JSON document and judges it, or the part of it that
// JSONPath selects.
type webProvider struct {
	client client.Client
	http   *http.Client
}

func newWebProvider(c client.Client, h *http.Client) *webProvider {
	return &webProvider{client: c, http: h}
}

func (w *webProvider) measure(ctx context.Context, req request) (observation, error) {
	wm := req.spec.metric.Provider.Web
	var secrets redactor
	headers := make(http.Header, len(wm.Headers))
	for _, h := range wm.Headers {
		v, err := w.fillSecrets(ctx, req.ro.Namespace, h.Value, &secrets)
		if err != nil {
			return observation{}, fmt.Errorf("header %s: %w", h.Name, err)
		}
		headers.Add(h.Name, v)
	}
	var timeout time.Duration
	if wm.Timeout != nil {
		timeout = wm.Timeout.Duration
	}
	doc, err := w.fetch(ctx, wm.Method, wm.URL, wm.Body, headers, timeout)
	if err != nil {
		return observation{}, secrets.err(err)
	}
	result, err := selectJSON(doc, wm.JSONPath)
	if err != nil {
		return observation{}, secrets.err(err)
	}
	text, err := json.Marshal(result)
	if err != nil {
		return observation{}, err
	}
	return observation{result: result, value: secrets.text(string(text)), secrets: secrets.values}, nil
}

// fetch sends the request and decodes the JSON document it gets back.
func (w *webProvider) fetch(ctx context.Context, method, url, body string, headers http.Header, timeout time.Duration) (any, error) {
	if method == "" {
		method = http.MethodGet
	}
	ctx, cancel := context.WithTimeout(ctx, measureTimeout(timeout, defaultWebTimeout))
	defer cancel()
	var reader io.Reader
	if body != "" {
		reader = strings.NewReader(body)
	}
	hr, err := http.NewRequestWithContext(ctx, method, url, reader)
	if err != nil {
		return nil, fmt.Errorf("web metric request: %w", err)
	}
	hr.Header = headers
	if hr.Header.Get("Accept") == "" {
		hr.Header.Set("Accept", "application/json")
	}
	resp, err := w.http.Do(hr)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxWebBody+1))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read the response: %w", method, url, err)
	}
	// The response is never quoted: the endpoint may be anything the
	// controller can reach, and what it says goes no further than the
	// value jsonPath selects.
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fmt.Errorf("%s %s: %s", method, url, resp.Status)
	}
	if len(data) > maxWebBody {
		return nil, fmt.Errorf("%s %s: the response is larger than %d bytes", method, url, maxWebBody)
	}
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s %s: the response is not JSON", method, url)
	}
	return doc, nil
}

// selectJSON applies a JSONPath ("{.data.ok}" or ".data.ok") to a document;
// one match is the result, several are a list. Without a path, the
// document is the result if it is a single value, not an object or list.
// Errors never quote the document.
func selectJSON(doc any, path string) (any, error) {
	if path == "" {
		switch doc.(type) {
		case map[string]any, []any:
			return nil, errors.New("the response is a JSON object or list: set jsonPath to the value to judge")
		}
		return doc, nil
	}
	if doc == nil {
		// client-go's JSONPath panics on a null document.
		return nil, fmt.Errorf("jsonPath %q selects nothing in a null response", path)
	}
	expr := path
	if !strings.Contains(expr, "{") {
		expr = "{" + expr + "}"
	}
	jp := jsonpath.New("metric")
	if err := jp.Parse(expr); err != nil {
		return nil, fmt.Errorf("jsonPath %q: %w", path, err)
	}
	found, err := jp.FindResults(doc)
	if err != nil {
		// Some of jsonpath's errors print the part of the document
		// they stopped at.
		return nil, fmt.Errorf("jsonPath %q selects nothing in the response", path)
	}
	var values []any
	for _, set := range found {
		for _, v := range set {
			values = append(values, v.Interface())
		}
	}
	switch len(values) {
	case 0:
		return nil, fmt.Errorf("jsonPath %q selects nothing in the response", path)
	case 1:
		return values[0], nil
	default:
		return values, nil
	}
}

// fillSecrets replaces {{secret.NAME.KEY}} in s with the Secret's value and
// remembers the value, so that it can be kept out of every message.
func (w *webProvider) fillSecrets(ctx context.Context, namespace, s string, r *redactor) (string, error) {
	var errs []error
	out := secretPattern.ReplaceAllStringFunc(s, func(match string) string {
		m := secretPattern.FindStringSubmatch(match)
		v, err := w.secret(ctx, namespace, m[1], m[2])
		if err != nil {
			errs = append(errs, err)
			return ""
		}
		r.add(v)
		return v
	})
	return out, errors.Join(errs...)
}

func (w *webProvider) secret(ctx context.Context, namespace, name, key string) (string, error) {
	var s corev1.Secret
	err := w.client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &s)
	if apierrors.IsNotFound(err) {
		return "", fmt.Errorf("Secret %s/%s not found", namespace, name)
	}
	if err != nil {
		return "", fmt.Errorf("read Secret %s/%s: %w", namespace, name, err)
	}
	v, ok := s.Data[key]
	if !ok {
		return "", fmt.Errorf("Secret %s/%s has no key %q", namespace, name, key)
	}
	return string(v), nil
}

// redactor keeps secret values out of text.
type redactor struct{ values []string }

func (r *redactor) add(v string) {
	if v != "" {
		r.values = append(r.values, v)
	}
}

func (r *redactor) text(s string) string { return redact(s, r.values) }

func (r *redactor) err(err error) error {
	if len(r.values) == 0 {
		return err
	}
	return errors.New(r.text(err.Error()))
}

// redact replaces every secret value in s.
func redact(s string, secrets []string) string {
	for _, v := range secrets {
		s = strings.ReplaceAll(s, v, "[redacted]")
	}
	return s
}
