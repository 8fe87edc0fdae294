package table

import (
	"fmt"
	"slices"
	"strings"
)

// ResolveNames expands word into the sorted, de-duplicated system names it
// stands for: itself if isSystem says it is a system (systems win over
// nicknames of the same name), else the members of nickname word in names,
// nested nicknames expanded. Cycles and unknown words are refused.
// Results are upper case.
// A nil names table has no nicknames.
func ResolveNames(names *Table, word string, isSystem func(string) bool) ([]string, error) {
	if names == nil {
		names = &Table{File: namesFile, Name: "NAMES", KeyTag: "NICK"}
	}
	r := resolver{names: names, isSystem: isSystem, seen: map[string]bool{}}
	if err := r.expand(strings.ToUpper(word), nil); err != nil {
		return nil, err
	}
	out := make([]string, 0, len(r.seen))
	for s := range r.seen {
		out = append(out, s)
	}
	slices.Sort(out)
	return out, nil
}

// UnknownNameError is a word that is neither a system nor a nickname:
// the word resolved, or a member of nickname In's :list..
type UnknownNameError struct {
	Name string // upper case
	In   string // the nickname that lists Name; "" for the word resolved
	err  *Error
}

func (e *UnknownNameError) Error() string  { return e.err.Error() }
func (e *UnknownNameError) Reason() string { return e.err.Reason() }
func (e *UnknownNameError) Unwrap() error  { return e.err }

type resolver struct {
	names    *Table
	isSystem func(string) bool
	seen     map[string]bool // systems found
}

// expand adds word's systems; path is the chain of nicknames that led here.
func (r *resolver) expand(word string, path []string) error {
	if r.isSystem(word) {
		r.seen[word] = true
		return nil
	}
	e, ok := r.names.Get(word)
	if !ok {
		where := ""
		if len(path) > 0 {
			where = fmt.Sprintf(" (listed in nickname %s)", path[len(path)-1])
		}
		in := ""
		if len(path) > 0 {
			in = path[len(path)-1]
		}
		return &UnknownNameError{err: &Error{Table: namesLabel(r.names), Key: word, Code: ReasonUnknownName, Err: ErrUnknownName,
			Msg: fmt.Sprintf("%s%s is neither a system in %s nor a nickname in %s", word, where, SysStat().File.Name(), namesLabel(r.names))},
			Name: word, In: in}
	}
	if i := slices.Index(path, word); i >= 0 {
		return cycleError(r.names, slices.Concat(path[i:], []string{word}))
	}
	path = append(path, word)
	for _, m := range members(e) {
		if err := r.expand(m, path); err != nil {
			return err
		}
	}
	return nil
}

// CheckNames refuses a NAMES table in which a nickname contains itself,
// directly or through others. Members that are not nicknames are taken
// for systems: which systems exist is not known here.
func CheckNames(names *Table) error {
	done := map[string]bool{} // nicknames whose expansion is known to be acyclic
	var visit func(nick string, path []string) error
	visit = func(nick string, path []string) error {
		if i := slices.Index(path, nick); i >= 0 {
			return cycleError(names, slices.Concat(path[i:], []string{nick}))
		}
		if done[nick] {
			return nil
		}
		e, _ := names.Get(nick)
		for _, m := range members(e) {
			if _, ok := names.Get(m); ok {
				if err := visit(m, append(path, nick)); err != nil {
					return err
				}
			}
		}
		done[nick] = true
		return nil
	}
	for _, e := range names.entries {
		if err := visit(strings.ToUpper(e.Key()), nil); err != nil {
			return err
		}
	}
	return nil
}

// members are the upper-cased words of a nickname's :LIST.
func members(e Entry) []string {
	v, _ := e.Get(TagList)
	return strings.Fields(strings.ToUpper(v))
}

func cycleError(names *Table, cycle []string) error {
	return &Error{Table: namesLabel(names), Key: cycle[0], Code: ReasonNicknameCycle, Err: ErrNicknameCycle,
		Msg: fmt.Sprintf("%s: nickname cycle: %s; a nickname may not contain itself", namesLabel(names), strings.Join(cycle, " -> "))}
}

func namesLabel(t *Table) string {
	if t.File != "" {
		return t.File
	}
	return namesFile
}
