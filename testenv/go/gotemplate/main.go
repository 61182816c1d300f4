// The reference for driftless-template's tests: Go's own text/template, with Sprig's functions
// (sprig.TxtFuncMap, as Helm registers them) on request.
//
// It reads a JSON array of cases on standard input and writes a JSON array of results, one per
// case and in the same order, on standard output, so that a test binary runs it once for all of
// its cases. A case is {"name", "template", "data", "sprig", "missingkey", "now"}: data is decoded
// by encoding/json into interface{} (numbers are float64, as values are in Helm); missingkey is
// the text/template option ("" keeps the default); now, when set (RFC 3339), fixes Sprig's clock.
// With sprig, `include` is registered as Helm defines it (ExecuteTemplate into a buffer), so that
// functions calling back into the template set are checked too.
// A result is {"output"} or {"error"}, the error being err.Error() of Parse or Execute.
package main

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"sort"
	"strings"
	"text/template"
	"time"

	"github.com/Masterminds/sprig/v3"
)

type testCase struct {
	Name       string          `json:"name"`
	Template   string          `json:"template"`
	Data       json.RawMessage `json:"data"`
	Sprig      bool            `json:"sprig"`
	MissingKey string          `json:"missingkey"`
	Now        string          `json:"now"`
	// ParseOnly: no execution; the output lists every template of the set with its parse
	// tree as Go prints it (Tree.Root.String()), sorted by name.
	ParseOnly bool `json:"parseOnly"`
	// Stubs: names of further functions to declare (doing nothing), for parsing texts that
	// call functions this program does not have (Helm's toYaml, required...).
	Stubs []string `json:"stubs"`
}

type result struct {
	Output *string `json:"output,omitempty"`
	Error  *string `json:"error,omitempty"`
}

func run(c testCase) (out string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	var data interface{}
	if len(c.Data) > 0 {
		if err := json.Unmarshal(c.Data, &data); err != nil {
			return "", fmt.Errorf("bad data: %w", err)
		}
	}
	t := template.New(c.Name)
	if c.Sprig {
		funcs := sprig.TxtFuncMap()
		if c.Now != "" {
			now, err := time.Parse(time.RFC3339, c.Now)
			if err != nil {
				return "", fmt.Errorf("bad now: %w", err)
			}
			funcs["now"] = func() time.Time { return now }
		}
		// Checks of certificates made elsewhere (driftless-template's genCA...): what Go's
		// crypto/x509 reads in them, and whether one verifies against a CA.
		funcs["x509Info"] = x509Info
		funcs["x509Verify"] = x509Verify
		funcs["include"] = func(name string, data interface{}) (string, error) {
			var buf bytes.Buffer
			err := t.ExecuteTemplate(&buf, name, data)
			return buf.String(), err
		}
		t = t.Funcs(funcs)
	}
	if len(c.Stubs) > 0 {
		stubs := template.FuncMap{}
		for _, name := range c.Stubs {
			stubs[name] = func(...interface{}) string { return "" }
		}
		t = t.Funcs(stubs)
	}
	if c.MissingKey != "" {
		t = t.Option("missingkey=" + c.MissingKey)
	}
	if _, err := t.Parse(c.Template); err != nil {
		return "", err
	}
	if c.ParseOnly {
		var names []string
		for _, tmpl := range t.Templates() {
			names = append(names, tmpl.Name())
		}
		sort.Strings(names)
		var out strings.Builder
		for _, name := range names {
			fmt.Fprintf(&out, "== %s\n%s\n", name, t.Lookup(name).Tree.Root.String())
		}
		return out.String(), nil
	}
	var buf bytes.Buffer
	err = t.Execute(&buf, data)
	return buf.String(), err
}

func x509Info(certPEM string) (string, error) {
	block, _ := pem.Decode([]byte(certPEM))
	if block == nil || block.Type != "CERTIFICATE" {
		return "", fmt.Errorf("no CERTIFICATE PEM block")
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return "", err
	}
	var ips []string
	for _, ip := range c.IPAddresses {
		ips = append(ips, ip.String())
	}
	days := int(c.NotAfter.Sub(c.NotBefore).Hours() / 24)
	return fmt.Sprintf("CN=%s issuer=%s isCA=%t basic=%t dns=%v ips=%v days=%d keyUsage=%d extKeyUsage=%v serialBits<=128:%t key=%T",
		c.Subject.CommonName, c.Issuer.CommonName, c.IsCA, c.BasicConstraintsValid, c.DNSNames, ips, days,
		c.KeyUsage, c.ExtKeyUsage, c.SerialNumber.BitLen() <= 128, c.PublicKey), nil
}

func x509Verify(certPEM, caPEM string) (string, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(caPEM)) {
		return "", fmt.Errorf("bad CA PEM")
	}
	block, _ := pem.Decode([]byte(certPEM))
	if block == nil {
		return "", fmt.Errorf("bad certificate PEM")
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return "", err
	}
	if _, err := c.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: c.NotBefore.Add(time.Hour)}); err != nil {
		return "", err
	}
	return "verified", nil
}

func main() {
	var cases []testCase
	if err := json.NewDecoder(os.Stdin).Decode(&cases); err != nil {
		fmt.Fprintln(os.Stderr, "gotemplate: cannot read the cases:", err)
		os.Exit(2)
	}
	results := make([]result, len(cases))
	for i, c := range cases {
		out, err := run(c)
		if err != nil {
			msg := err.Error()
			results[i].Error = &msg
		} else {
			results[i].Output = &out
		}
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(results); err != nil {
		fmt.Fprintln(os.Stderr, "gotemplate: cannot write the results:", err)
		os.Exit(2)
	}
}
