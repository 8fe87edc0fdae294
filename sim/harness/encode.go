package harness

import (
	"bytes"
	"fmt"
	"io"

	"gopkg.in/yaml.v3"
)

// WriteYAML writes the scenario as a YAML file that Parse reads back to the
// same Scenario: what csmsim shrink writes. Fields at their zero value are
// left out (omitempty, which decoding ignores), and so are the defaults
// Parse fills in again (on_failure: stop, prefix: VM), so the file says
// only what the scenario says.
func (sc *Scenario) WriteYAML(w io.Writer) error {
	c := *sc
	c.Steps = append([]Step(nil), sc.Steps...)
	for i := range c.Steps {
		if c.Steps[i].OnFailure == "stop" {
			c.Steps[i].OnFailure = ""
		}
	}
	if c.World.Prefix == "VM" {
		c.World.Prefix = ""
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(&c); err != nil {
		return fmt.Errorf("scenario %s: encoding YAML: %w", sc.Name, err)
	}
	return enc.Close()
}

// MarshalYAML writes a single return code as a scalar (rc: 8), as
// scenarios are written, and several as a list.
func (r RCs) MarshalYAML() (any, error) {
	if len(r) == 1 {
		return r[0], nil
	}
	return []int(r), nil
}

// MarshalYAML keeps the difference between failed: [] (no system may
// fail) and no failed: at all (not checked), which omitempty would lose.
func (c RolloutCheck) MarshalYAML() (any, error) {
	type plain RolloutCheck // the same fields, without this method
	var n yaml.Node
	if err := n.Encode(plain(c)); err != nil {
		return nil, err
	}
	if c.Failed != nil && len(c.Failed) == 0 {
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "failed"},
			&yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle})
	}
	return &n, nil
}

// clone is a deep copy of the scenario, with its defaults, for the
// shrinker to cut: the YAML encoding holds every field.
func (sc *Scenario) clone() (*Scenario, error) {
	var b bytes.Buffer
	if err := sc.WriteYAML(&b); err != nil {
		return nil, err
	}
	var c Scenario
	if err := yaml.Unmarshal(b.Bytes(), &c); err != nil {
		return nil, fmt.Errorf("scenario %s: decoding its own YAML: %w", sc.Name, err)
	}
	c.File = sc.File
	c.defaults()
	return &c, nil
}
