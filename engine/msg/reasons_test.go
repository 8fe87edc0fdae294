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
)

// reasonConst is an exported Reason* constant as its package's source
// declares it, and the code it prints as.
type reasonConst struct{ pkg, name, code string }

// reasonConsts reads every exported constant named Reason* in the non-test
// sources of engine/<pkg>: a string literal is the code itself, an integer
// prints as four hex digits (servlink.ReasonCode.String).
func reasonConsts(pkg string) []reasonConst {
	GinkgoHelper()
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join("..", pkg, "*.go"))
	Expect(err).NotTo(HaveOccurred())
	var out []reasonConst
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		Expect(err).NotTo(HaveOccurred())
		for _, d := range af.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, s := range gd.Specs {
				vs := s.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if !strings.HasPrefix(n.Name, "Reason") || !n.IsExported() || i >= len(vs.Values) {
						continue
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					Expect(ok).To(BeTrue(), "%s.%s is not a literal", pkg, n.Name)
					var code string
					switch lit.Kind {
					case token.STRING:
						code, err = strconv.Unquote(lit.Value)
					case token.INT:
						var v int64
						v, err = strconv.ParseInt(lit.Value, 0, 32)
						code = fmt.Sprintf("%04X", v)
					default:
						err = fmt.Errorf("unexpected literal %s", lit.Value)
					}
					Expect(err).NotTo(HaveOccurred())
					out = append(out, reasonConst{pkg, n.Name, code})
				}
			}
		}
	}
	return out
}

var _ = Describe("reason codes", func() {
	var all []reasonConst
	BeforeEach(func() {
		all = append(reasonConsts("table"), reasonConsts("servlink")...)
		Expect(len(all)).To(BeNumerically(">=", 24), "13 table codes and 11 SERVLINK codes at least")
	})

	It("have one meaning each, across engine/table and engine/servlink", func() {
		byCode := map[string][]string{}
		for _, c := range all {
			byCode[c.code] = append(byCode[c.code], c.pkg+"."+c.name)
		}
		var twice []string
		for code, names := range byCode {
			if len(names) > 1 {
				twice = append(twice, code+": "+strings.Join(names, ", "))
			}
		}
		sort.Strings(twice)
		Expect(twice).To(BeEmpty(), "a reason code names two failures")
	})

	It("are each a row of docs/reason-codes.md, with the constant that raises it", func() {
		b, err := os.ReadFile(filepath.Join("..", "..", "docs", "reason-codes.md"))
		Expect(err).NotTo(HaveOccurred())
		doc := string(b)
		for _, c := range all {
			row := regexp.MustCompile(`(?m)^\| ` + c.code + ` \|[^\n]*` + "`" + c.pkg + `\.` + c.name + "`")
			Expect(row.MatchString(doc)).To(BeTrue(), "no row for %s (%s.%s)", c.code, c.pkg, c.name)
		}
	})
})
