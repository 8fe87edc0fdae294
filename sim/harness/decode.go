package harness

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Error is one problem in a scenario file, with its position.
type Error struct {
	File         string
	Line, Column int
	Msg, Hint    string
}

func (e Error) Error() string {
	s := fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
	if e.Hint != "" {
		s += " (hint: " + e.Hint + ")"
	}
	return s
}

// Errors are all problems found in one file.
type Errors []Error

func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// MaxScenarioBytes is the largest scenario file csmsim reads.
const MaxScenarioBytes = 1 << 20

// Load reads, strictly decodes and checks a scenario. Problems come back
// as Errors, each with file:line:column.
func Load(path string) (*Scenario, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxScenarioBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(b) > MaxScenarioBytes {
		return nil, Errors{{File: path, Line: 1, Column: 1, Msg: fmt.Sprintf("the file is larger than %d bytes", MaxScenarioBytes),
			Hint: "a scenario is a YAML file of at most 1 MiB; split it, or use repeat: for many similar steps"}}
	}
	return Parse(path, b)
}

// Parse is Load on bytes already read; file names the errors.
func Parse(file string, b []byte) (*Scenario, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, Errors{yamlError(file, err)}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, Errors{{File: file, Line: 1, Column: 1, Msg: "empty scenario", Hint: "a scenario needs at least name and steps"}}
	}
	var errs Errors
	walk(file, doc.Content[0], reflect.TypeOf(Scenario{}), "scenario", &errs)
	if len(errs) > 0 {
		return nil, errs
	}
	var sc Scenario
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&sc); err != nil {
		return nil, Errors{yamlError(file, err)}
	}
	sc.File = file
	root := doc.Content[0]
	if steps := valueOf(root, "steps"); steps != nil {
		for i := range sc.Steps {
			if i < len(steps.Content) {
				sc.Steps[i].line, sc.Steps[i].col = steps.Content[i].Line, steps.Content[i].Column
			}
		}
	}
	errs = sc.check(root)
	if len(errs) > 0 {
		return nil, errs
	}
	sc.defaults()
	return &sc, nil
}

func (sc *Scenario) defaults() {
	if sc.Release == "" {
		sc.Release = "720"
	}
	if sc.World.Prefix == "" {
		sc.World.Prefix = "VM"
	}
	for i := range sc.Steps {
		if sc.Steps[i].OnFailure == "" {
			sc.Steps[i].OnFailure = "stop"
		}
	}
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

func yamlError(file string, err error) Error {
	line := 1
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		fmt.Sscan(m[1], &line)
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.ReplaceAll(msg, "\n", " ")
	return Error{File: file, Line: line, Column: 1, Msg: msg, Hint: "fix the YAML syntax"}
}

func valueOf(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

// walk checks n against t: known keys, kinds and scalar types, required
// fields, each error at its own line and column.
func walk(file string, n *yaml.Node, t reflect.Type, where string, errs *Errors) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	add := func(n *yaml.Node, hint, format string, args ...any) {
		*errs = append(*errs, Error{File: file, Line: n.Line, Column: n.Column, Msg: fmt.Sprintf(format, args...), Hint: hint})
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // an empty value: the field keeps its default
	}
	if reflect.PointerTo(t).Implements(reflect.TypeFor[yaml.Unmarshaler]()) {
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			*errs = append(*errs, Error{File: file, Line: n.Line, Column: n.Column, Msg: err.Error()})
		}
		return
	}
	switch t.Kind() {
	case reflect.Interface:
		return
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			add(n, "write it as key: value lines", "%s must be a mapping, found %s", where, kindName(n))
			return
		}
		fields := map[string]reflect.StructField{}
		var names []string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
			if tag == "" || tag == "-" {
				continue
			}
			fields[tag] = f
			names = append(names, tag)
		}
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			f, ok := fields[k.Value]
			if !ok {
				add(k, hintFor(k.Value, names), "unknown field %q in %s", k.Value, where)
				continue
			}
			seen[k.Value] = true
			walk(file, v, f.Type, k.Value, errs)
		}
		for _, name := range names {
			if fields[name].Tag.Get("required") == "true" && !seen[name] {
				add(n, "add "+name+": to "+where, "missing required field %q in %s", name, where)
			}
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			add(n, "write it as key: value lines", "%s must be a mapping, found %s", where, kindName(n))
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			walk(file, n.Content[i+1], t.Elem(), where+" "+n.Content[i].Value, errs)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			add(n, "write a list, one '- item' per line", "%s must be a list, found %s", where, kindName(n))
			return
		}
		for _, c := range n.Content {
			walk(file, c, t.Elem(), where+" item", errs)
		}
	default:
		if n.Kind != yaml.ScalarNode {
			add(n, "", "%s must be %s, found %s", where, typeName(t), kindName(n))
			return
		}
		v := reflect.New(t)
		if err := n.Decode(v.Interface()); err != nil {
			add(n, "", "%s must be %s, found %q", where, typeName(t), n.Value)
		}
	}
}

func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean (true or false)"
	case reflect.Int, reflect.Int64:
		return "an integer"
	case reflect.Uint64:
		return "a non-negative integer"
	case reflect.String:
		return "a string"
	}
	return t.String()
}

// hintFor suggests the nearest known key.
func hintFor(key string, names []string) string {
	best, bestD := "", 1<<30
	for _, n := range names {
		if d := distance(key, n); d < bestD {
			best, bestD = n, d
		}
	}
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	if bestD <= 3 {
		return fmt.Sprintf("did you mean %q? known fields: %s", best, strings.Join(sorted, ", "))
	}
	return "known fields: " + strings.Join(sorted, ", ")
}

func distance(a, b string) int {
	d := make([]int, len(b)+1)
	for j := range d {
		d[j] = j
	}
	for i := 1; i <= len(a); i++ {
		prev := d[0]
		d[0] = i
		for j := 1; j <= len(b); j++ {
			cur := d[j]
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			d[j] = min(d[j]+1, d[j-1]+1, prev+c)
			prev = cur
		}
	}
	return d[len(b)]
}
