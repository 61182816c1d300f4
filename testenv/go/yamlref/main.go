// Command yamlref is the reference the plain renderer's tests compare with: it reads each file
// named on its command line the way kubectl's resource builder reads a manifest file (documents
// split and converted to JSON by k8s.io/apimachinery's YAML-or-JSON decoder, which converts YAML
// with sigs.k8s.io/yaml; empty and null documents skipped; kind and apiVersion required; a list
// kind with items replaced by its items; metadata.name required, as kubectl apply requires it)
// and prints one JSON object per line. On the first error
// it prints "error: <message>" on stdout and exits with 1.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

func main() {
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for _, path := range os.Args[1:] {
		if err := emit(out, path); err != nil {
			fmt.Fprintf(out, "error: %v\n", err)
			out.Flush()
			os.Exit(1)
		}
	}
}

func emit(out io.Writer, path string) error {
	file, err := os.Open(path)
	if err != nil {
		return err
	}
	defer file.Close()
	decoder := utilyaml.NewYAMLOrJSONDecoder(file, 4096)
	for {
		var ext runtime.RawExtension
		if err := decoder.Decode(&ext); err != nil {
			if err == io.EOF {
				return nil
			}
			return fmt.Errorf("error parsing %s: %v", path, err)
		}
		raw := bytes.TrimSpace(ext.Raw)
		if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
			continue
		}
		var object map[string]interface{}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&object); err != nil {
			return fmt.Errorf("error decoding %s: %v", path, err)
		}
		objects := []interface{}{object}
		if kind, _ := object["kind"].(string); strings.HasSuffix(kind, "List") {
			if items, ok := object["items"]; ok {
				list, _ := items.([]interface{})
				objects = list
			}
		}
		for _, item := range objects {
			mapped, ok := item.(map[string]interface{})
			if !ok {
				return fmt.Errorf("%s: a document is not an object", path)
			}
			if kind, _ := mapped["kind"].(string); kind == "" {
				return fmt.Errorf("%s: Object 'Kind' is missing", path)
			}
			if version, _ := mapped["apiVersion"].(string); version == "" {
				return fmt.Errorf("%s: Object 'apiVersion' is missing", path)
			}
			// kubectl apply needs a name (generateName only serves create).
			metadata, _ := mapped["metadata"].(map[string]interface{})
			if name, _ := metadata["name"].(string); name == "" {
				return fmt.Errorf("%s: resource name may not be empty", path)
			}
			line, err := json.Marshal(mapped)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "%s\n", line)
		}
	}
}
