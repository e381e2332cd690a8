package isolate

import (
	"encoding/json"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"

	"weir.dev/weir/internal/decrypt"
	"weir.dev/weir/internal/render"
)

// request is what the parent writes to a worker's stdin.
type request struct {
	Root string
	Path string
	// Options go without their Decrypter; the worker makes one from Keys.
	Options render.Options
	// Keys decrypt SOPS files; nil refuses every encrypted file.
	Keys *decrypt.Keys
}

// response is what a worker writes to its stdout.
type response struct {
	Objects []json.RawMessage `json:",omitempty"`
	// Error is the render's error message, already naming the file.
	Error string `json:",omitempty"`
	// Decrypt is set when the render failed on a file it could not
	// decrypt, so that the parent can tell that stage apart.
	Decrypt *decryptFailure `json:",omitempty"`
	// Decrypted are the values the worker decrypted, for the parent's
	// Decryptor to redact.
	Decrypted []string `json:",omitempty"`
}

// decryptFailure is a *decrypt.Error across the pipe.
type decryptFailure struct {
	File   string
	Reason string
}

// newResponse is the answer to a render that returned objs and err.
func newResponse(objs []*unstructured.Unstructured, err error, dec *decrypt.Decryptor) (*response, error) {
	resp := &response{Decrypted: dec.Values()}
	if err != nil {
		resp.Error = err.Error()
		if de := (*decrypt.Error)(nil); errors.As(err, &de) {
			resp.Decrypt = &decryptFailure{File: de.File, Reason: de.Err.Error()}
		}
		return resp, nil
	}
	resp.Objects = make([]json.RawMessage, len(objs))
	for i, obj := range objs {
		data, err := json.Marshal(obj.Object)
		if err != nil {
			return nil, err
		}
		resp.Objects[i] = data
	}
	return resp, nil
}

// result turns a worker's answer back into what render.Render returns.
func (r *response) result() ([]*unstructured.Unstructured, error) {
	if r.Error != "" {
		return nil, r.err()
	}
	objs := make([]*unstructured.Unstructured, len(r.Objects))
	for i, data := range r.Objects {
		obj := map[string]any{}
		// utiljson turns whole numbers into int64, as unstructured needs.
		if err := utiljson.Unmarshal(data, &obj); err != nil {
			return nil, fmt.Errorf("object %d of the render worker's answer: %w", i+1, err)
		}
		objs[i] = &unstructured.Unstructured{Object: obj}
	}
	return objs, nil
}

// err is the render's error, wrapping a *decrypt.Error when it failed on
// a file it could not decrypt.
func (r *response) err() error {
	e := &workerError{msg: r.Error}
	if r.Decrypt != nil {
		e.cause = &decrypt.Error{File: r.Decrypt.File, Err: errors.New(r.Decrypt.Reason)}
	}
	return e
}

// workerError is a render error that a worker reported.
type workerError struct {
	msg   string
	cause error
}

func (e *workerError) Error() string { return e.msg }
func (e *workerError) Unwrap() error { return e.cause }
