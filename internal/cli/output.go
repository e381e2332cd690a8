package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"sigs.k8s.io/yaml"
)

// outputFlag is -o: table, yaml or json.
type outputFlag string

func (o *outputFlag) String() string { return string(*o) }
func (o *outputFlag) Type() string   { return "format" }

// Set accepts one of the known formats.
func (o *outputFlag) Set(v string) error {
	switch v {
	case "table", "yaml", "json":
		*o = outputFlag(v)
		return nil
	}
	return fmt.Errorf("unknown output format %q: use table, yaml or json", v)
}

// print writes v as yaml or json, or as a table of header and rows.
func (o outputFlag) print(w io.Writer, v any, header []string, rows [][]string) error {
	switch o {
	case "yaml":
		data, err := yaml.Marshal(v)
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	for _, row := range append([][]string{header}, rows...) {
		for i, cell := range row {
			if i > 0 {
				fmt.Fprint(tw, "\t")
			}
			fmt.Fprint(tw, cell)
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}
