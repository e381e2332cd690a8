package valuewrite

// Editor writes values into one file of a commit, for gitwrite.Commit.
type Editor struct {
	// File is the file's path, slash-separated from the repository root.
	File string
	// Values to write there.
	Values []Value
}

// Edit sets the values in e.File; other files are left as they are.
func (e Editor) Edit(path string, content []byte) ([]byte, bool, error) {
	if path != e.File {
		return content, false, nil
	}
	return Set(content, e.Values)
}
