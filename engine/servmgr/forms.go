package servmgr

import "strings"

type form struct{ name, form string }

// forms lists every command form, in the order of the CSM overview.
var forms = []form{
	{"INITIALIZE", "INITIALIZE vrm"},
	{"MANAGED", "MANAGED OFF|ON"},
	{"SYSTEM ADD", "SYSTEM ADD vrm system level [NONESM] HOSTNAME host [COMMTYPE FTP] [(PORT n REQUIRE|NOREQUIRE NOCONTACT]"},
	{"SYSTEM DELETE", "SYSTEM DELETE vrm system"},
	{"SYSTEM MODIFY", "SYSTEM MODIFY vrm system [HOSTNAME host] [SRVLVL level] [(PORT n REQUIRE|NOREQUIRE NOCONTACT]"},
	{"SYSTEM PUT2PROD", "SYSTEM PUT2PROD vrm system|nickname|ALL [(" + rolloutForm + "]"},
	{"SYSTEM QUERY", "SYSTEM QUERY vrm [system|nickname|ALL]"},
	{"SYSTEM SERVCHECK", "SYSTEM SERVCHECK vrm system|nickname|ALL"},
	{"SRVLVL ADD", "SRVLVL ADD vrm level BASEDON level [NONESM] [DESC text]"},
	{"SRVLVL DELETE", "SRVLVL DELETE vrm level"},
	{"SRVLVL LOCALMOD", "SRVLVL LOCALMOD vrm level comp envelope [(IBM|VENDOR|CUSTOMER]"},
	{"SRVLVL SERVICE", "SRVLVL SERVICE vrm level comp|ALL envelope"},
	{"SRVLVL PACKAGE", "SRVLVL PACKAGE vrm level"},
	{"SRVLVL SEND", "SRVLVL SEND [vrm] level system|nickname|ALL [(TEST|STABLE COND " + rolloutForm + "]"},
	{"SRVLVL SETLOCK", "SRVLVL SETLOCK vrm level ON|OFF"},
	{"SRVLVL QUERY", "SRVLVL QUERY vrm [level|ALL]"},
	{"SRVLVL VMFSETUP", "SRVLVL VMFSETUP vrm level comp"},
}

var (
	operands      = []string{"INITIALIZE", "MANAGED", "SYSTEM", "SRVLVL"}
	systemOps     = []string{"ADD", "DELETE", "MODIFY", "PUT2PROD", "QUERY", "SERVCHECK"}
	srvlvlOps     = []string{"ADD", "DELETE", "LOCALMOD", "SERVICE", "PACKAGE", "SEND", "SETLOCK", "QUERY", "VMFSETUP"}
	topForm       = "INITIALIZE|MANAGED|SYSTEM|SRVLVL operands"
	systemForm    = "SYSTEM " + strings.Join(systemOps, "|") + " operands"
	srvlvlForm    = "SRVLVL " + strings.Join(srvlvlOps, "|") + " operands"
	operandList   = orList(operands)
	systemOpsList = orList(systemOps)
	srvlvlOpsList = orList(srvlvlOps)
)

// Forms returns every command form, e.g.
// "SRVLVL ADD vrm level BASEDON level [NONESM] [DESC text]".
func Forms() []string {
	out := make([]string, len(forms))
	for i, f := range forms {
		out[i] = f.form
	}
	return out
}

// Usage returns the forms of the commands name selects, one per line: ""
// selects all of them, "SRVLVL" the SRVLVL ones, "srvlvl add" just one.
// An unknown name gives "".
func Usage(name string) string {
	key := strings.Join(strings.Fields(asciiUpper(name)), " ")
	var out []string
	for _, f := range forms {
		if key == "" || f.name == key || strings.HasPrefix(f.name, key+" ") {
			out = append(out, f.form)
		}
	}
	return strings.Join(out, "\n")
}

func usageOf(name string) string {
	for _, f := range forms {
		if f.name == name {
			return f.form
		}
	}
	return ""
}

// orList renders "A", "A or B", "A, B or C".
func orList(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}
