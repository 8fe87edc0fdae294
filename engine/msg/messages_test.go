package msg_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	sm "github.com/csmsim/csmsim/engine/msg"
)

var idRE = regexp.MustCompile(`^CSM[0-9]{4}[IWES]$`)

// verbs returns the verbs of a format ("%-16s" gives 's'); "%%" is none.
func verbs(format string) []byte {
	var out []byte
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		i++
		for i < len(format) && strings.IndexByte("+-# 0123456789.", format[i]) >= 0 {
			i++
		}
		if i < len(format) && format[i] != '%' {
			out = append(out, format[i])
		}
	}
	return out
}

// sampleArgs gives one argument of a fitting type per verb.
func sampleArgs(format string) []any {
	var args []any
	for _, v := range verbs(format) {
		switch v {
		case 'd':
			args = append(args, 42)
		default:
			args = append(args, "X")
		}
	}
	return args
}

var _ = Describe("the message table", func() {
	It("has unique, well-formed ids sorted by number, whose letter is the severity", func() {
		cat := sm.Catalog()
		Expect(len(cat)).To(BeNumerically(">", 50))
		seen := map[string]bool{}
		for _, m := range cat {
			Expect(m.ID).To(MatchRegexp(idRE.String()))
			Expect(seen[m.ID[:7]]).To(BeFalse(), "number of %s used twice", m.ID)
			seen[m.ID[:7]] = true
			Expect(string(rune(m.Sev))).To(Equal(m.ID[7:]), m.ID)
			Expect(m.Format).NotTo(BeEmpty())
			Expect(m.Format).NotTo(HaveSuffix(" "))
			got, ok := sm.Lookup(m.ID)
			Expect(ok).To(BeTrue())
			Expect(got).To(Equal(m))
		}
		Expect(sort.SliceIsSorted(cat, func(i, j int) bool { return cat[i].ID < cat[j].ID })).To(BeTrue())
	})

	It("has formats whose verbs are well-formed (%s %q %d %v only)", func() {
		for _, m := range sm.Catalog() {
			for _, v := range verbs(m.Format) {
				Expect("sqdv").To(ContainSubstring(string(v)), "%s uses %%%c", m.ID, v)
			}
			text := fmt.Sprintf(m.Format, sampleArgs(m.Format)...)
			Expect(text).NotTo(ContainSubstring("%!"), m.ID)
			l := sm.Message(m.ID, sampleArgs(m.Format)...)
			Expect(l.ID).To(Equal(m.ID))
			Expect(l.Text).To(Equal(text))
		}
	})

	It("is one const block in messages.go, sorted and listed whole in catalogFormats", func() {
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, "messages.go", nil, 0)
		Expect(err).NotTo(HaveOccurred())
		var consts, listed []string
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				for i, name := range n.Names {
					if idRE.MatchString(name.Name) {
						consts = append(consts, name.Name)
						lit, ok := n.Values[i].(*ast.BasicLit)
						Expect(ok).To(BeTrue(), "%s is not a string literal", name.Name)
						v, err := strconv.Unquote(lit.Value)
						Expect(err).NotTo(HaveOccurred())
						Expect(v).To(HavePrefix(name.Name+" "), "constant %s holds another id", name.Name)
					}
					if name.Name == "catalogFormats" {
						for _, e := range n.Values[i].(*ast.CompositeLit).Elts {
							listed = append(listed, e.(*ast.Ident).Name)
						}
					}
				}
			}
			return true
		})
		Expect(consts).To(Equal(listed))
		Expect(sort.StringsAreSorted(consts)).To(BeTrue())
		Expect(consts).To(HaveLen(len(sm.Catalog())))
	})

	It("is used with a matching number of arguments in packages msg and servmgr", func() {
		// go vet checks Messagef and Result.Addf calls (their formats are
		// constants); this covers Message(id, ...) calls with a literal id,
		// and requires Messagef and Addf to get a table constant.
		files, err := filepath.Glob("*.go")
		Expect(err).NotTo(HaveOccurred())
		parent, err := filepath.Glob("../*.go") // package servmgr
		Expect(err).NotTo(HaveOccurred())
		files = append(files, parent...)
		calls := 0
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			src, err := os.ReadFile(name)
			Expect(err).NotTo(HaveOccurred())
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, name, src, 0)
			Expect(err).NotTo(HaveOccurred())
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || len(call.Args) == 0 {
					return true
				}
				var fn string
				switch c := call.Fun.(type) {
				case *ast.Ident:
					fn = c.Name
				case *ast.SelectorExpr:
					fn = c.Sel.Name
				}
				where := fset.Position(call.Pos()).String()
				switch fn {
				case "Message":
					lit, ok := call.Args[0].(*ast.BasicLit)
					if !ok || call.Ellipsis.IsValid() {
						return true
					}
					id, _ := strconv.Unquote(lit.Value)
					m, ok := sm.Lookup(id)
					Expect(ok).To(BeTrue(), "%s: unknown message %s", where, id)
					Expect(call.Args[1:]).To(HaveLen(len(verbs(m.Format))), "%s: arguments of %s", where, id)
					calls++
				case "Messagef", "Addf":
					var name string
					switch a := call.Args[0].(type) {
					case *ast.Ident:
						name = a.Name
					case *ast.SelectorExpr:
						name = a.Sel.Name
					}
					Expect(idRE.MatchString(name) || name == "format").To(BeTrue(), "%s: %s needs a message constant", where, fn)
					calls++
				}
				return true
			})
		}
		Expect(calls).To(BeNumerically(">", 0))
	})

	DescribeTable("renders messages as CSMnnnnX text",
		func(l sm.Line, want string, rc int) {
			Expect(l.String()).To(Equal(want))
			Expect(l.RC()).To(Equal(rc))
		},
		Entry("start", sm.Messagef(sm.CSM0001I, "SRVLVL PACKAGE 720 VM010802_BLD2"),
			"CSM0001I SERVMGR SRVLVL PACKAGE 720 VM010802_BLD2 started", 0),
		Entry("end", sm.Messagef(sm.CSM0002I, "SRVLVL PACKAGE 720 VM010802_BLD2", 8),
			"CSM0002I SERVMGR SRVLVL PACKAGE 720 VM010802_BLD2 ended RC=8", 0),
		Entry("by id", sm.Message("CSM2710E", "VM010802_BLD9", "720"),
			"CSM2710E Service level VM010802_BLD9 is not defined in release 720; SERVMGR SRVLVL QUERY of that release lists its levels", 8),
		Entry("not enough blocks", sm.Messagef(sm.CSM2902E, "VMPSFS", 355800, 120000),
			"CSM2902E File pool VMPSFS has not enough free 4K blocks: 355800 needed, 120000 free", 8),
		Entry("55th system", sm.Messagef(sm.CSM2814E, "VM55", 54, 54),
			"CSM2814E System VM55 refused: the principal already manages 54 systems, at most 54 are allowed", 8),
		Entry("envelope invalid", sm.Messagef(sm.CSM2721E, "RSU0802", "0808", 10240, "SHA-256 mismatch of part DMSNUC TEXT"),
			"CSM2721E Envelope RSU0802 is not valid: reason code 0808 at offset 10240: SHA-256 mismatch of part DMSNUC TEXT", 8),
		Entry("table malformed", sm.Messagef(sm.CSM3000E, "CSM SYSSTAT", 3, 17, 52, "tag without a period"),
			"CSM3000E Table CSM SYSSTAT is malformed at line 3, column 17 (offset 52): tag without a period", 8),
		Entry("no transport", sm.Messagef(sm.CSM3050E, "SRVLVL SEND"),
			"CSM3050E SERVMGR SRVLVL SEND needs the transport to managed systems, and none is configured", 8),
		Entry("nothing to package", sm.Messagef(sm.CSM2736W, "VM010802_BLD2", "VM010102_BLD1"),
			"CSM2736W Nothing changed in service level VM010802_BLD2 since VM010102_BLD1; no SERVLINK written", 4),
		Entry("SERVLINK written", sm.Messagef(sm.CSM2735I, "CMS", 14, 1843200),
			"CSM2735I SERVLINK written for component CMS: 14 parts, 1843200 bytes", 0),
		Entry("query header", sm.Messagef(sm.CSM2741I, "LEVEL", "BASEDON", "STATE", "LOCK", "DESCRIPTION"),
			"CSM2741I LEVEL            BASEDON          STATE  LOCK DESCRIPTION", 0),
		Entry("unknown id", sm.Message("CSM9999E", "x"),
			"CSM0000S Internal error: message CSM9999E is not in the message table", 12),
		Entry("format not in the table", sm.Messagef("CSM2710E Service level %s gone", "L"),
			`CSM0000S Internal error: message format "CSM2710E Service level %s gone" is not in the message table`, 12),
	)

	It("maps severities to return codes", func() {
		Expect(sm.Info.RC()).To(Equal(0))
		Expect(sm.Warning.RC()).To(Equal(4))
		Expect(sm.Error.RC()).To(Equal(8))
		Expect(sm.Severe.RC()).To(Equal(12))
		Expect(sm.Error.String()).To(Equal("E"))
	})
})

var _ = Describe("Result", func() {
	It("is RC 0 without messages", func() {
		var r sm.Result
		Expect(r.RC).To(Equal(0))
		Expect(r.Failed()).To(BeFalse())
	})

	It("keeps the highest return code of its lines, in order", func() {
		var r sm.Result
		r.Addf(sm.CSM2700I, "L2", "720", "L1")
		Expect(r.RC).To(Equal(0))
		r.Addf(sm.CSM2736W, "L2", "L1")
		Expect(r.RC).To(Equal(4))
		Expect(r.Failed()).To(BeFalse())
		r.Add(sm.Messagef(sm.CSM2714E, "L2", "720", "720", "L2"), sm.Messagef(sm.CSM0003I))
		Expect(r.RC).To(Equal(8))
		Expect(r.Failed()).To(BeTrue())
		r.Addf(sm.CSM0000S, "boom")
		Expect(r.RC).To(Equal(12))
		r.Addf(sm.CSM2702I, "L2", "720")
		Expect(r.RC).To(Equal(12))
		Expect(r.Strings()).To(Equal([]string{
			"CSM2700I Service level L2 added to release 720, based on L1, state TEST",
			"CSM2736W Nothing changed in service level L2 since L1; no SERVLINK written",
			"CSM2714E Service level L2 of release 720 is locked; enter SERVMGR SRVLVL SETLOCK 720 L2 OFF first",
			"CSM0003I No changes were made",
			"CSM0000S Internal error: boom",
			"CSM2702I Service level L2 of release 720 locked",
		}))
	})
})
