package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"

	"weir.dev/weir/internal/yamlalias"
)

// document is one YAML or JSON document of a file.
type document struct {
	// line is the 1-based line of the file the document starts on.
	line int
	data []byte
	// json is set when data is one JSON value, which needs no conversion.
	json bool
}

// emitFunc receives each object decoded from a file with the line of the
// document it came from.
type emitFunc func(obj map[string]any, line int) error

// decodeFile splits a file into its documents and emits the object each one
// holds, in order. Empty and comment-only documents are skipped. Errors name
// the file and line.
func decodeFile(name string, data []byte, emit emitFunc) error {
	var docs []document
	if strings.HasSuffix(name, ".json") {
		var err *docError
		if docs, err = splitJSON(data); err != nil {
			return fmt.Errorf("render %s:%d: %w", name, err.line, err)
		}
	} else {
		docs = splitYAML(data)
	}
	n := 0
	for _, doc := range docs {
		obj, err := decodeDocument(doc)
		if err != nil {
			return fmt.Errorf("render %s:%d: %w", name, err.line, err)
		}
		if obj == nil {
			continue
		}
		n++
		if err := emit(obj, doc.line); err != nil {
			return fmt.Errorf("render %s:%d: document %d: %w", name, doc.line, n, err)
		}
	}
	return nil
}

// utf8BOM may start a file; YAML parsers reject it mid-stream.
var utf8BOM = []byte("\xef\xbb\xbf")

// splitYAML cuts data at document markers: lines that start with "---" or
// "..." followed by nothing, a space or a tab. Whatever follows "---" on its
// line belongs to the next document, as YAML has it; otherwise the next
// document starts on the following line.
func splitYAML(data []byte) []document {
	data = bytes.TrimPrefix(data, utf8BOM)
	var docs []document
	start, startLine := 0, 1
	for off, line := 0, 1; off < len(data); line++ {
		end := bytes.IndexByte(data[off:], '\n')
		next := len(data)
		if end >= 0 {
			end += off
			next = end + 1
		} else {
			end = len(data)
		}
		if isDocumentMarker(data[off:end]) {
			docs = append(docs, document{line: startLine, data: data[start:off]})
			start, startLine = off+3, line
			if rest := bytes.TrimSpace(data[start:end]); len(rest) == 0 || rest[0] == '#' {
				start, startLine = next, line+1
			}
		}
		off = next
	}
	return append(docs, document{line: startLine, data: data[start:]})
}

// isDocumentMarker reports whether a line starts or ends a YAML document.
func isDocumentMarker(line []byte) bool {
	if !bytes.HasPrefix(line, []byte("---")) && !bytes.HasPrefix(line, []byte("...")) {
		return false
	}
	rest := line[3:]
	return len(rest) == 0 || rest[0] == ' ' || rest[0] == '\t' || rest[0] == '\r'
}

// docError is a problem with a document, placed on a line of its file.
type docError struct {
	line int
	err  error
}

func (e *docError) Error() string { return e.err.Error() }
func (e *docError) Unwrap() error { return e.err }

// splitJSON cuts a stream of JSON values into documents.
func splitJSON(data []byte) ([]document, *docError) {
	var docs []document
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, jsonError(data, dec.InputOffset(), err)
		}
		start := int(dec.InputOffset()) - len(raw)
		docs = append(docs, document{line: lineAt(data, start), data: raw, json: true})
	}
}

// jsonError places a JSON syntax error on its line.
func jsonError(data []byte, offset int64, err error) *docError {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		offset = syn.Offset
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		offset = int64(len(data))
	}
	return &docError{line: lineAt(data, int(offset)), err: err}
}

// lineAt returns the 1-based line holding byte offset of data.
func lineAt(data []byte, offset int) int {
	offset = min(max(offset, 0), len(data))
	return bytes.Count(data[:offset], []byte("\n")) + 1
}

// decodeDocument decodes one document into a JSON-compatible object, nil
// when the document is empty. YAML is read as kubectl reads it
// (sigs.k8s.io/yaml), except that duplicate keys are an error rather than
// silently resolved.
func decodeDocument(doc document) (map[string]any, *docError) {
	j := doc.data
	if !doc.json {
		var aliasErr *yamlalias.Error
		if errors.As(yamlalias.Check(doc.data), &aliasErr) {
			return nil, &docError{line: doc.line + aliasErr.Line - 1, err: errors.New(aliasErr.Reason())}
		}
		var err error
		if j, err = yaml.YAMLToJSONStrict(doc.data); err != nil {
			return nil, yamlError(err, doc.line)
		}
	}
	j = bytes.TrimSpace(j)
	if bytes.Equal(j, []byte("null")) {
		return nil, nil
	}
	if len(j) == 0 || j[0] != '{' {
		return nil, &docError{line: doc.line, err: errors.New("document is not an object")}
	}
	var obj map[string]any
	// utiljson turns whole numbers into int64, as unstructured needs.
	if err := utiljson.Unmarshal(j, &obj); err != nil {
		return nil, &docError{line: doc.line, err: err}
	}
	return obj, nil
}

// yamlLine finds the line a go-yaml error reports, as in
// "yaml: line 3: mapping values are not allowed in this context".
var yamlLine = regexp.MustCompile(`line (\d+): (.*)`)

// yamlError places a YAML error of a document that starts on docLine on the
// line of the file it reports, or on docLine when it reports none.
func yamlError(err error, docLine int) *docError {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		if n, convErr := strconv.Atoi(m[1]); convErr == nil {
			return &docError{line: docLine + n - 1, err: errors.New(m[2])}
		}
	}
	return &docError{line: docLine, err: errors.New(strings.TrimPrefix(msg, "yaml: "))}
}
