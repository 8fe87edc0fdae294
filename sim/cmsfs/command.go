package cmsfs

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Exec runs one of the CMS file pool commands a CSM setup needs, typed as
// on CMS by user: ENROLL ADMIN, ENROLL USER, MODIFY USER, QUERY LIMITS and
// QUERY FILEPOOL. Errors name the command and what to type instead.
func (w *World) Exec(user string, words []string, out io.Writer) error {
	line := strings.Fields(strings.ToUpper(strings.Join(words, " ")))
	opts := map[string]string{}
	if hasParen(line) {
		line, opts = splitOptions(line)
	}
	usage := func(form string) error {
		return fmt.Errorf("%s: expected %s", strings.Join(line, " "), form)
	}
	verb := func(n int) string {
		if len(line) < n {
			return ""
		}
		return strings.Join(line[:n], " ")
	}
	switch {
	case len(line) == 0:
		return fmt.Errorf("no command; one of ENROLL ADMIN, ENROLL USER, MODIFY USER, QUERY LIMITS, QUERY FILEPOOL")
	case verb(2) == "ENROLL ADMIN":
		if len(line) != 4 {
			return usage("ENROLL ADMIN userid filepool:")
		}
		p, err := w.poolArg(line[3])
		if err != nil {
			return err
		}
		if err := p.EnrollAdmin(user, line[2]); err != nil {
			return err
		}
		fmt.Fprintf(out, "%s is now an administrator of file pool %s\n", line[2], p.Name())
	case verb(2) == "ENROLL USER", verb(2) == "MODIFY USER":
		form := verb(2) + " userid filepool: (BLOCKS n"
		if len(line) != 4 {
			return usage(form)
		}
		blocks, err := strconv.ParseInt(opts["BLOCKS"], 10, 64)
		if err != nil {
			return usage(form)
		}
		p, err := w.poolArg(line[3])
		if err != nil {
			return err
		}
		if verb(2) == "ENROLL USER" {
			err = p.Enroll(user, line[2], blocks)
		} else {
			err = p.ModifyUser(user, line[2], blocks)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s: file space %s limit %d blocks\n", p.Name(), line[2], blocks)
	case verb(2) == "QUERY LIMITS":
		// QUERY LIMITS [FOR userid|ALL] filepool:
		rest := line[2:]
		who := user
		if len(rest) >= 2 && rest[0] == "FOR" {
			who, rest = rest[1], rest[2:]
		}
		if len(rest) != 1 {
			return usage("QUERY LIMITS [FOR userid|ALL] filepool:")
		}
		p, err := w.poolArg(rest[0])
		if err != nil {
			return err
		}
		spaces := []string{who}
		if who == "ALL" {
			spaces = p.Spaces()
		}
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "Userid\t4K Block Limit\t4K Block Committed\tThreshold\t")
		for _, s := range spaces {
			limit, used, err := p.Quota(s)
			if err != nil {
				return err
			}
			pct := 0
			if limit > 0 {
				pct = int(used * 100 / limit)
			}
			fmt.Fprintf(tw, "%s\t%d\t%d-%02d%%\t90%%\t\n", s, limit, used, pct)
		}
		return tw.Flush()
	case verb(2) == "QUERY FILEPOOL":
		// QUERY FILEPOOL [STATUS] filepool:
		rest := line[2:]
		if len(rest) == 2 && rest[0] == "STATUS" {
			rest = rest[1:]
		}
		if len(rest) != 1 {
			return usage("QUERY FILEPOOL [STATUS] filepool:")
		}
		p, err := w.poolArg(rest[0])
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "File pool %s: %d 4K blocks, %d free, %d file spaces\n", p.Name(), p.Capacity(), p.FreeBlocks(), len(p.Spaces()))
	default:
		return fmt.Errorf("%s: unknown command; this CMS knows ENROLL ADMIN, ENROLL USER, MODIFY USER, QUERY LIMITS, QUERY FILEPOOL", strings.Join(line, " "))
	}
	return nil
}

// poolArg takes "VMPSFS:" (the colon is how CMS marks a file pool id).
func (w *World) poolArg(s string) (*FilePool, error) {
	name, ok := strings.CutSuffix(s, ":")
	if !ok {
		return nil, fmt.Errorf("%q is not a file pool id; write it with a colon (VMPSFS: for VMPSFS)", s)
	}
	return w.FilePool(name)
}

func hasParen(words []string) bool {
	for _, x := range words {
		if strings.HasPrefix(x, "(") {
			return true
		}
	}
	return false
}

// splitOptions separates CMS options "( KEY value ..." from the operands.
func splitOptions(words []string) ([]string, map[string]string) {
	opts := map[string]string{}
	for i, x := range words {
		if !strings.HasPrefix(x, "(") {
			continue
		}
		rest := append([]string{strings.TrimPrefix(x, "(")}, words[i+1:]...)
		var flat []string
		for _, r := range rest {
			if r = strings.TrimSuffix(r, ")"); r != "" {
				flat = append(flat, r)
			}
		}
		for j := 0; j < len(flat); j++ {
			if j+1 < len(flat) {
				opts[flat[j]] = flat[j+1]
				j++
			} else {
				opts[flat[j]] = ""
			}
		}
		return words[:i], opts
	}
	return words, opts
}
