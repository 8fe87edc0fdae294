package servmgr

import "strings"

type token struct {
	text string
	pos  int // 1-based among all tokens of the line
	col  int // 1-based character column
}

func isBlank(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '\f', '\v':
		return true
	}
	return false
}

// tokenize splits a line into blank-separated words; "(" and ")" are tokens
// of their own. It also returns the column just past the last token.
func tokenize(line string) (toks []token, endCol int) {
	var cur strings.Builder
	col, start := 0, 0
	flush := func() {
		if cur.Len() > 0 {
			toks = append(toks, token{cur.String(), len(toks) + 1, start})
			cur.Reset()
		}
	}
	for _, r := range line {
		col++
		switch {
		case isBlank(r):
			flush()
		case r == '(' || r == ')':
			flush()
			toks = append(toks, token{string(r), len(toks) + 1, col})
			endCol = col + 1
		default:
			if cur.Len() == 0 {
				start = col
			}
			cur.WriteRune(r)
			endCol = col + 1
		}
	}
	flush()
	if endCol == 0 {
		endCol = 1
	}
	return toks, endCol
}

// asciiUpper folds a-z only, so keywords never match through Unicode
// case folding (the Kelvin sign is not a K).
func asciiUpper(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' {
			return r - 'a' + 'A'
		}
		return r
	}, s)
}
