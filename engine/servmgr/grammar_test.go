package servmgr_test

import (
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/engine/fleet"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/rollout"
	sm "github.com/csmsim/csmsim/engine/servmgr"
)

func boolp(b bool) *bool { return &b }

// The command lines of the CSM overview (seeds/zvm-csm-overview.txt),
// exactly as printed there: line breaks, double blanks, mixed case, the
// SEND without a vrm.
const (
	seedInitialize = "servmgr initialize 720\n"
	seedAddBLD1    = "servmgr srvlvl add 720 vm010102_BLD1 basedon  \nBASE nonesm desc Initial RSU Install\n"
	seedServBLD1   = "servmgr srvlvl service 720 vm010102_bld1 all  \nrsu0801\n"
	seedSystemAdd  = "servmgr system add 720 vm01 vm010102_bld1  \nnonesm hostname vm01.Washington.ibm.com  \ncommtype ftp (port 4535 norequire)\n"
	seedAddBLD2    = "servmgr srvlvl add 720 vm010802_BLD2 basedon  \nvm010102_BLD1 nonesm desc August RSU Install\n"
	seedServBLD2   = "servmgr srvlvl service 720 vm010802_BLD2 all  \nrsu0802\n"
	seedPackage    = "servmgr srvlvl package 720 vm010802_BLD2\n"
	seedSetlock    = "servmgr srvlvl setlock 720 vm010802_BLD2 on\n"
	seedSendTest   = "servmgr srvlvl send 720 vm010802_BLD2 vm01  \n(test\n"
	seedSendStable = "servmgr srvlvl send vm010802_BLD2 vm01  \n(stable\n"
	seedPut2Prod   = "servmgr system put2prod 720 vm01\n"
)

var _ = Describe("Parse", func() {
	DescribeTable("parses every command line of the CSM overview as written",
		func(line string, want sm.Command, canonical string) {
			got, err := sm.Parse(line)
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(Equal(want))
			Expect(got.String()).To(Equal(canonical))
		},
		Entry("initialize", seedInitialize, sm.Initialize{VRM: "720"}, "INITIALIZE 720"),
		Entry("srvlvl add BLD1 (two lines)", seedAddBLD1,
			sm.SrvlvlAdd{VRM: "720", Level: "VM010102_BLD1", BasedOn: "BASE", NoESM: true, Desc: "Initial RSU Install"},
			"SRVLVL ADD 720 VM010102_BLD1 BASEDON BASE NONESM DESC Initial RSU Install"),
		Entry("srvlvl service BLD1 (two lines)", seedServBLD1,
			sm.SrvlvlService{VRM: "720", Level: "VM010102_BLD1", Component: "ALL", Envelope: "RSU0801"},
			"SRVLVL SERVICE 720 VM010102_BLD1 ALL RSU0801"),
		Entry("system add (three lines, options)", seedSystemAdd,
			sm.SystemAdd{VRM: "720", System: "VM01", Level: "VM010102_BLD1", NoESM: true,
				Host: "VM01.WASHINGTON.IBM.COM", CommType: "FTP", Port: 4535, Require: false},
			"SYSTEM ADD 720 VM01 VM010102_BLD1 NONESM HOSTNAME VM01.WASHINGTON.IBM.COM COMMTYPE FTP (PORT 4535 NOREQUIRE)"),
		Entry("srvlvl add BLD2 based on BLD1", seedAddBLD2,
			sm.SrvlvlAdd{VRM: "720", Level: "VM010802_BLD2", BasedOn: "VM010102_BLD1", NoESM: true, Desc: "August RSU Install"},
			"SRVLVL ADD 720 VM010802_BLD2 BASEDON VM010102_BLD1 NONESM DESC August RSU Install"),
		Entry("srvlvl service BLD2", seedServBLD2,
			sm.SrvlvlService{VRM: "720", Level: "VM010802_BLD2", Component: "ALL", Envelope: "RSU0802"},
			"SRVLVL SERVICE 720 VM010802_BLD2 ALL RSU0802"),
		Entry("srvlvl package", seedPackage, sm.SrvlvlPackage{VRM: "720", Level: "VM010802_BLD2"},
			"SRVLVL PACKAGE 720 VM010802_BLD2"),
		Entry("srvlvl setlock on", seedSetlock, sm.SrvlvlSetlock{VRM: "720", Level: "VM010802_BLD2", On: true},
			"SRVLVL SETLOCK 720 VM010802_BLD2 ON"),
		Entry("srvlvl send (test on the next line", seedSendTest,
			sm.SrvlvlSend{VRM: "720", Level: "VM010802_BLD2", Target: "VM01"},
			"SRVLVL SEND 720 VM010802_BLD2 VM01 (TEST)"),
		Entry("srvlvl send (stable, printed without the vrm", seedSendStable,
			sm.SrvlvlSend{VRM: "", Level: "VM010802_BLD2", Target: "VM01", Stable: true},
			"SRVLVL SEND VM010802_BLD2 VM01 (STABLE)"),
		Entry("system put2prod", seedPut2Prod, sm.SystemPut2Prod{VRM: "720", Target: "VM01"},
			"SYSTEM PUT2PROD 720 VM01"),
		Entry("mixed case, no SERVMGR word", "SrvLvl SeTlOcK 720 Vm010802_bld2 OFF",
			sm.SrvlvlSetlock{VRM: "720", Level: "VM010802_BLD2", On: false}, "SRVLVL SETLOCK 720 VM010802_BLD2 OFF"),
		Entry("upper case, tabs and CRLF", "SERVMGR\tSYSTEM ADD 720 VM01 VM010102_BLD1\r\nNONESM HOSTNAME 10.1.2.3 COMMTYPE FTP (PORT 4535 NOREQUIRE)",
			sm.SystemAdd{VRM: "720", System: "VM01", Level: "VM010102_BLD1", NoESM: true, Host: "10.1.2.3", CommType: "FTP", Port: 4535},
			"SYSTEM ADD 720 VM01 VM010102_BLD1 NONESM HOSTNAME 10.1.2.3 COMMTYPE FTP (PORT 4535 NOREQUIRE)"),
		Entry("parenthesis against the word and closing parenthesis", "system add 720 vm01 l1 hostname h(port 4536 require)",
			sm.SystemAdd{VRM: "720", System: "VM01", Level: "L1", Host: "H", CommType: "FTP", Port: 4536, Require: true},
			"SYSTEM ADD 720 VM01 L1 HOSTNAME H COMMTYPE FTP (PORT 4536 REQUIRE)"),
	)

	DescribeTable("parses the other operands and their defaults",
		func(line string, want sm.Command) {
			got, err := sm.Parse(line)
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(Equal(want))
		},
		Entry("managed on", "servmgr managed on", sm.Managed{On: true}),
		Entry("managed off", "MANAGED OFF", sm.Managed{On: false}),
		Entry("system add: defaults", "system add 720 vm02 base hostname vm02",
			sm.SystemAdd{VRM: "720", System: "VM02", Level: "BASE", Host: "VM02", CommType: "FTP", Port: sm.DefaultPort}),
		Entry("system add: IPv6 host, option order free", "system add 720 vm02 l1 hostname ::1 (require port 1)",
			sm.SystemAdd{VRM: "720", System: "VM02", Level: "L1", Host: "::1", CommType: "FTP", Port: 1, Require: true}),
		Entry("system add: NOCONTACT", "system add 720 vm02 l1 hostname h (nocontact port 4536",
			sm.SystemAdd{VRM: "720", System: "VM02", Level: "L1", Host: "H", CommType: "FTP", Port: 4536, NoContact: true}),
		Entry("system delete", "system delete 720 vm01", sm.SystemDelete{VRM: "720", System: "VM01"}),
		Entry("system modify host", "system modify 720 vm01 hostname vm01.example.com",
			sm.SystemModify{VRM: "720", System: "VM01", Host: "VM01.EXAMPLE.COM"}),
		Entry("system modify level", "system modify 720 vm01 srvlvl vm010802_bld2",
			sm.SystemModify{VRM: "720", System: "VM01", Level: "VM010802_BLD2"}),
		Entry("system modify options only", "system modify 720 vm01 (port 4600 norequire",
			sm.SystemModify{VRM: "720", System: "VM01", Port: 4600, Require: boolp(false)}),
		Entry("system modify everything", "system modify 720 vm01 hostname h srvlvl l2 (require",
			sm.SystemModify{VRM: "720", System: "VM01", Host: "H", Level: "L2", Require: boolp(true)}),
		Entry("system modify with NOCONTACT", "system modify 720 vm01 hostname h (nocontact",
			sm.SystemModify{VRM: "720", System: "VM01", Host: "H", NoContact: true}),
		Entry("system put2prod nickname", "system put2prod 720 east", sm.SystemPut2Prod{VRM: "720", Target: "EAST"}),
		Entry("system put2prod all", "system put2prod 720 all", sm.SystemPut2Prod{VRM: "720", Target: "ALL"}),
		Entry("system query defaults to ALL", "system query 720", sm.SystemQuery{VRM: "720", Target: "ALL"}),
		Entry("system query one", "system query 720 vm01", sm.SystemQuery{VRM: "720", Target: "VM01"}),
		Entry("system servcheck", "system servcheck 720 all", sm.SystemServcheck{VRM: "720", Target: "ALL"}),
		Entry("srvlvl add without options", "srvlvl add 720 l2 basedon l1",
			sm.SrvlvlAdd{VRM: "720", Level: "L2", BasedOn: "L1"}),
		Entry("srvlvl add: DESC keeps case, one blank between words", "srvlvl add 720 l2 basedon l1 desc  Fix  for APAR vm66123, #2",
			sm.SrvlvlAdd{VRM: "720", Level: "L2", BasedOn: "L1", Desc: "Fix for APAR vm66123, #2"}),
		Entry("srvlvl add: 16-character level", "srvlvl add 720 abcdefghij_@#$12 basedon base",
			sm.SrvlvlAdd{VRM: "720", Level: "ABCDEFGHIJ_@#$12", BasedOn: "BASE"}),
		Entry("srvlvl delete", "srvlvl delete 720 l2", sm.SrvlvlDelete{VRM: "720", Level: "L2"}),
		Entry("srvlvl localmod defaults to CUSTOMER", "srvlvl localmod 720 l2 cms lmod1",
			sm.SrvlvlLocalmod{VRM: "720", Level: "L2", Component: "CMS", Envelope: "LMOD1", Origin: sm.OriginCustomer}),
		Entry("srvlvl localmod IBM", "srvlvl localmod 720 l2 cp lmod2 (ibm)",
			sm.SrvlvlLocalmod{VRM: "720", Level: "L2", Component: "CP", Envelope: "LMOD2", Origin: sm.OriginIBM}),
		Entry("srvlvl localmod vendor", "srvlvl localmod 720 l2 tcpip vend$1 (vendor",
			sm.SrvlvlLocalmod{VRM: "720", Level: "L2", Component: "TCPIP", Envelope: "VEND$1", Origin: sm.OriginVendor}),
		Entry("srvlvl service one component", "srvlvl service 720 l2 cms cor0001",
			sm.SrvlvlService{VRM: "720", Level: "L2", Component: "CMS", Envelope: "COR0001"}),
		Entry("srvlvl send stable cond", "srvlvl send 720 l2 all (stable cond)",
			sm.SrvlvlSend{VRM: "720", Level: "L2", Target: "ALL", Stable: true, Cond: true}),
		Entry("srvlvl send defaults to TEST", "srvlvl send 720 l2 vm01",
			sm.SrvlvlSend{VRM: "720", Level: "L2", Target: "VM01"}),
		Entry("srvlvl send without vrm", "srvlvl send l2 vm01 (cond",
			sm.SrvlvlSend{Level: "L2", Target: "VM01", Cond: true}),
		Entry("srvlvl query defaults to ALL", "srvlvl query 720", sm.SrvlvlQuery{VRM: "720", Level: "ALL"}),
		Entry("srvlvl query one", "srvlvl query 720 base", sm.SrvlvlQuery{VRM: "720", Level: "BASE"}),
		Entry("srvlvl vmfsetup", "srvlvl vmfsetup 720 l2 cms", sm.SrvlvlVmfsetup{VRM: "720", Level: "L2", Component: "CMS"}),
		Entry("empty options part", "srvlvl package 720 l2 ()", sm.SrvlvlPackage{VRM: "720", Level: "L2"}),
	)

	It("names each command and gives its release", func() {
		c, err := sm.Parse(seedAddBLD2)
		Expect(err).NotTo(HaveOccurred())
		Expect(c.Name()).To(Equal("SRVLVL ADD"))
		Expect(c.Release()).To(Equal("720"))
		m, err := sm.Parse("managed on")
		Expect(err).NotTo(HaveOccurred())
		Expect(m.Name()).To(Equal("MANAGED"))
		Expect(m.Release()).To(BeEmpty())
	})

	Describe("ParseArgs", func() {
		It("joins separate shell words", func() {
			c, err := sm.ParseArgs([]string{"srvlvl", "send", "720", "vm010802_BLD2", "vm01", "(stable"})
			Expect(err).NotTo(HaveOccurred())
			Expect(c).To(Equal(sm.SrvlvlSend{VRM: "720", Level: "VM010802_BLD2", Target: "VM01", Stable: true}))
		})
		It("takes one quoted string", func() {
			c, err := sm.ParseArgs([]string{"system add 720 vm01 vm010102_bld1 nonesm hostname vm01.Washington.ibm.com commtype ftp (port 4535 norequire)"})
			Expect(err).NotTo(HaveOccurred())
			Expect(c.String()).To(Equal("SYSTEM ADD 720 VM01 VM010102_BLD1 NONESM HOSTNAME VM01.WASHINGTON.IBM.COM COMMTYPE FTP (PORT 4535 NOREQUIRE)"))
		})
		It("drops a leading SERVMGR word and keeps DESC words", func() {
			c, err := sm.ParseArgs([]string{"SERVMGR", "srvlvl", "add", "720", "L2", "basedon", "L1", "desc", "Initial RSU Install"})
			Expect(err).NotTo(HaveOccurred())
			Expect(c).To(Equal(sm.SrvlvlAdd{VRM: "720", Level: "L2", BasedOn: "L1", Desc: "Initial RSU Install"}))
		})
		It("reports columns of the joined line", func() {
			_, err := sm.ParseArgs([]string{"srvlvl", "send", "720", "l1", "vm01", "(stabel"})
			se, ok := sm.AsSyntaxError(err)
			Expect(ok).To(BeTrue())
			Expect(se.Kind).To(Equal(sm.KindUnknownOption))
			Expect(se.Token).To(Equal("stabel"))
			Expect(se.Pos).To(Equal(7))
			Expect(se.Col).To(Equal(26))
			Expect(se.Expected).To(Equal("TEST, STABLE, COND, CANARY, WAVES, BUDGET, DEADLINE or RESTART"))
		})
	})

	DescribeTable("String is canonical and parses back to an equal command",
		func(c sm.Command, canonical string) {
			Expect(c.String()).To(Equal(canonical))
			back, err := sm.Parse(canonical)
			Expect(err).NotTo(HaveOccurred())
			Expect(back).To(Equal(c))
			Expect(back.String()).To(Equal(canonical))
			Expect(canonical).To(HavePrefix(c.Name()))
			Expect(strings.ToUpper(canonical)).NotTo(ContainSubstring("PASSWORD"))
		},
		Entry(nil, sm.Initialize{VRM: "720"}, "INITIALIZE 720"),
		Entry(nil, sm.Managed{On: true}, "MANAGED ON"),
		Entry(nil, sm.Managed{}, "MANAGED OFF"),
		Entry(nil, sm.SystemAdd{VRM: "730", System: "VM#9", Level: "L1", Host: "HOST-1.EXAMPLE", CommType: "FTP", Port: 21, Require: true},
			"SYSTEM ADD 730 VM#9 L1 HOSTNAME HOST-1.EXAMPLE COMMTYPE FTP (PORT 21 REQUIRE)"),
		Entry(nil, sm.SystemDelete{VRM: "720", System: "VM01"}, "SYSTEM DELETE 720 VM01"),
		Entry(nil, sm.SystemModify{VRM: "720", System: "VM01", Host: "H", Level: "L2", Port: 4536, Require: boolp(false)},
			"SYSTEM MODIFY 720 VM01 HOSTNAME H SRVLVL L2 (PORT 4536 NOREQUIRE)"),
		Entry(nil, sm.SystemModify{VRM: "720", System: "VM01", Level: "L2"}, "SYSTEM MODIFY 720 VM01 SRVLVL L2"),
		Entry(nil, sm.SystemModify{VRM: "720", System: "VM01", Require: boolp(true)}, "SYSTEM MODIFY 720 VM01 (REQUIRE)"),
		Entry(nil, sm.SystemPut2Prod{VRM: "720", Target: "EAST"}, "SYSTEM PUT2PROD 720 EAST"),
		Entry(nil, sm.SystemQuery{VRM: "720", Target: "ALL"}, "SYSTEM QUERY 720 ALL"),
		Entry(nil, sm.SystemServcheck{VRM: "720", Target: "VM01"}, "SYSTEM SERVCHECK 720 VM01"),
		Entry(nil, sm.SrvlvlAdd{VRM: "720", Level: "L2", BasedOn: "BASE", NoESM: true, Desc: "Mixed Case, text"},
			"SRVLVL ADD 720 L2 BASEDON BASE NONESM DESC Mixed Case, text"),
		Entry(nil, sm.SrvlvlAdd{VRM: "720", Level: "L2", BasedOn: "L1"}, "SRVLVL ADD 720 L2 BASEDON L1"),
		Entry(nil, sm.SrvlvlDelete{VRM: "720", Level: "L2"}, "SRVLVL DELETE 720 L2"),
		Entry(nil, sm.SrvlvlLocalmod{VRM: "720", Level: "L2", Component: "CMS", Envelope: "LMOD1", Origin: "VENDOR"},
			"SRVLVL LOCALMOD 720 L2 CMS LMOD1 (VENDOR)"),
		Entry(nil, sm.SrvlvlService{VRM: "720", Level: "L2", Component: "ALL", Envelope: "RSU0802"},
			"SRVLVL SERVICE 720 L2 ALL RSU0802"),
		Entry(nil, sm.SrvlvlPackage{VRM: "720", Level: "L2"}, "SRVLVL PACKAGE 720 L2"),
		Entry(nil, sm.SrvlvlSend{VRM: "720", Level: "L2", Target: "VM01", Stable: true, Cond: true},
			"SRVLVL SEND 720 L2 VM01 (STABLE COND)"),
		Entry(nil, sm.SrvlvlSend{Level: "L2", Target: "VM01"}, "SRVLVL SEND L2 VM01 (TEST)"),
		Entry(nil, sm.SrvlvlSetlock{VRM: "720", Level: "L2", On: true}, "SRVLVL SETLOCK 720 L2 ON"),
		Entry(nil, sm.SrvlvlQuery{VRM: "720", Level: "ALL"}, "SRVLVL QUERY 720 ALL"),
		Entry(nil, sm.SrvlvlVmfsetup{VRM: "720", Level: "L2", Component: "REXX"}, "SRVLVL VMFSETUP 720 L2 REXX"),
	)
})

var _ = Describe("syntax errors", func() {
	type want struct {
		kind     sm.ErrorKind
		cmd      string
		token    string
		pos, col int
		expected string
		reason   string // a substring of Reason
	}
	DescribeTable("name the token, its position and column, and the expected form",
		func(line string, w want) {
			c, err := sm.Parse(line)
			Expect(c).To(BeNil())
			se, ok := sm.AsSyntaxError(err)
			Expect(ok).To(BeTrue(), "error %v is not a *SyntaxError", err)
			Expect(se.Kind).To(Equal(w.kind), se.Error())
			Expect(se.Command).To(Equal(w.cmd), se.Error())
			Expect(se.Token).To(Equal(w.token), se.Error())
			Expect(se.Pos).To(Equal(w.pos), se.Error())
			Expect(se.Col).To(Equal(w.col), se.Error())
			Expect(se.Expected).To(Equal(w.expected), se.Error())
			Expect(se.Reason).To(ContainSubstring(w.reason), se.Error())
			if w.token != "" {
				// The column points at the token in the line as given.
				Expect(string([]rune(line)[se.Col-1:])).To(HavePrefix(w.token))
			}
			switch w.cmd {
			case "":
				Expect(se.Form).To(Equal("INITIALIZE|MANAGED|SYSTEM|SRVLVL operands"))
			case "SYSTEM", "SRVLVL":
				Expect(se.Form).To(HavePrefix(w.cmd + " ADD|DELETE|"))
			default:
				Expect(se.Form).To(Equal(sm.Usage(w.cmd)))
			}
		},
		Entry("empty line", "", want{sm.KindEmpty, "", "", 1, 1, "INITIALIZE, MANAGED, SYSTEM or SRVLVL", "no operand"}),
		Entry("only SERVMGR", "servmgr  ", want{sm.KindEmpty, "", "", 2, 8, "INITIALIZE, MANAGED, SYSTEM or SRVLVL", "no operand"}),
		Entry("unknown operand", "servmgr frobnicate 720",
			want{sm.KindUnknownOperand, "", "frobnicate", 2, 9, "INITIALIZE, MANAGED, SYSTEM or SRVLVL", "unknown operand"}),
		Entry("unknown SRVLVL operand lists the valid ones", "srvlvl frob 720 x",
			want{sm.KindUnknownOperand, "SRVLVL", "frob", 2, 8, "ADD, DELETE, LOCALMOD, SERVICE, PACKAGE, SEND, SETLOCK, QUERY or VMFSETUP", "unknown SRVLVL operand"}),
		Entry("missing SYSTEM operand", "system",
			want{sm.KindMissing, "SYSTEM", "", 2, 7, "ADD, DELETE, MODIFY, PUT2PROD, QUERY or SERVCHECK", "missing"}),
		Entry("misspelt keyword", "srvlvl add 720 vm010802_BLD2 basedonn vm010102_BLD1",
			want{sm.KindExpected, "SRVLVL ADD", "basedonn", 5, 30, "BASEDON", "expected BASEDON"}),
		Entry("keyword out of place lists what may come", "system add 720 vm01 l1 commtype ftp",
			want{sm.KindExpected, "SYSTEM ADD", "commtype", 6, 24, "NONESM or HOSTNAME", "expected NONESM or HOSTNAME"}),
		Entry("vrm not 3 digits", "initialize 72",
			want{sm.KindBadVRM, "INITIALIZE", "72", 2, 12, "vrm", "3 digits"}),
		Entry("extra operand", "initialize 720 extra",
			want{sm.KindExtra, "INITIALIZE", "extra", 3, 16, "end of operands", "unexpected operand"}),
		Entry("extra operand after optional keywords", "srvlvl add 720 l2 basedon l1 nonesm foo",
			want{sm.KindExtra, "SRVLVL ADD", "foo", 8, 37, "DESC or end of operands", "unexpected operand"}),
		Entry("extra operand after an optional target", "system query 720 vm01 extra",
			want{sm.KindExtra, "SYSTEM QUERY", "extra", 5, 23, "end of operands", "unexpected"}),
		Entry("level name too long", "srvlvl add 720 a_level_name_too_long basedon base",
			want{sm.KindTooLong, "SRVLVL ADD", "a_level_name_too_long", 4, 16, "level", "longer than 16"}),
		Entry("level name with a period", "srvlvl delete 720 vm01.bld",
			want{sm.KindBadName, "SRVLVL DELETE", "vm01.bld", 4, 19, "level", `character '.' not allowed`}),
		Entry("ALL as a new level", "srvlvl add 720 all basedon base",
			want{sm.KindReserved, "SRVLVL ADD", "all", 4, 16, "level", "reserved"}),
		Entry("system name too long", "system add 720 toolongname l1 hostname h",
			want{sm.KindTooLong, "SYSTEM ADD", "toolongname", 4, 16, "system", "longer than 8"}),
		Entry("port 0", "system add 720 vm01 l1 hostname h (port 0",
			want{sm.KindBadPort, "SYSTEM ADD", "0", 10, 41, "n", "1 to 65535"}),
		Entry("unknown option", "system add 720 vm01 l1 hostname h (port 4535 secure",
			want{sm.KindUnknownOption, "SYSTEM ADD", "secure", 11, 46, "PORT, REQUIRE, NOREQUIRE or NOCONTACT", "unknown option"}),
		Entry("duplicated option", "system add 720 vm01 l1 hostname h (port 1 port 2",
			want{sm.KindDuplicateOption, "SYSTEM ADD", "port", 11, 43, "PORT, REQUIRE, NOREQUIRE or NOCONTACT", "given twice"}),
		Entry("duplicated flag", "srvlvl send 720 l1 vm01 (cond cond",
			want{sm.KindDuplicateOption, "SRVLVL SEND", "cond", 8, 31, "TEST, STABLE, COND, CANARY, WAVES, BUDGET, DEADLINE or RESTART", "given twice"}),
		Entry("conflicting options", "srvlvl send 720 l1 vm01 (test stable",
			want{sm.KindConflictingOption, "SRVLVL SEND", "stable", 8, 31, "TEST|STABLE", "conflicts with TEST"}),
		Entry("conflicting origins", "srvlvl localmod 720 l1 cms mod1 (ibm vendor",
			want{sm.KindConflictingOption, "SRVLVL LOCALMOD", "vendor", 9, 38, "IBM|VENDOR|CUSTOMER", "conflicts with IBM"}),
		Entry("option value missing", "system add 720 vm01 l1 hostname h (port",
			want{sm.KindMissingValue, "SYSTEM ADD", "", 10, 40, "n", "needs a value"}),
		Entry("option on a command without options", "srvlvl package 720 l1 (test",
			want{sm.KindUnknownOption, "SRVLVL PACKAGE", "test", 6, 24, "no options", "unknown option"}),
		Entry(") without (", "srvlvl package 720 l1 ) x",
			want{sm.KindParen, "SRVLVL PACKAGE", ")", 5, 23, "(", "without"}),
		Entry("text after )", "srvlvl send 720 l1 vm01 (stable) now",
			want{sm.KindParen, "SRVLVL SEND", "now", 9, 34, "end of line", "after"}),
		Entry("nothing to modify", "system modify 720 vm01",
			want{sm.KindNoChange, "SYSTEM MODIFY", "", 5, 23, "HOSTNAME, SRVLVL, PORT, REQUIRE or NOREQUIRE", "nothing to modify"}),
		Entry("bad host name", "system add 720 vm01 l1 nonesm hostname -bad-",
			want{sm.KindBadHost, "SYSTEM ADD", "-bad-", 8, 40, "host", "host name"}),
		Entry("communication type other than FTP", "system add 720 vm01 l1 hostname h commtype tcp",
			want{sm.KindBadValue, "SYSTEM ADD", "tcp", 9, 44, "FTP", "expected FTP"}),
		Entry("SETLOCK neither ON nor OFF", "srvlvl setlock 720 l1 maybe",
			want{sm.KindBadValue, "SRVLVL SETLOCK", "maybe", 5, 23, "ON|OFF", "expected ON|OFF"}),
		Entry("MANAGED neither OFF nor ON", "managed maybe",
			want{sm.KindBadValue, "MANAGED", "maybe", 2, 9, "OFF|ON", "expected OFF|ON"}),
		Entry("envelope name too long", "srvlvl service 720 l1 cms rsu0801x9",
			want{sm.KindTooLong, "SRVLVL SERVICE", "rsu0801x9", 6, 27, "envelope", "more than 8"}),
		Entry("envelope name with a period", "srvlvl service 720 l1 cms rsu.0801",
			want{sm.KindBadName, "SRVLVL SERVICE", "rsu.0801", 6, 27, "envelope", "not allowed"}),
		Entry("LOCALMOD into ALL components", "srvlvl localmod 720 l1 all mod1",
			want{sm.KindReserved, "SRVLVL LOCALMOD", "all", 5, 24, "comp", "name one component"}),
		Entry("DESC without text", "srvlvl add 720 l2 basedon l1 desc",
			want{sm.KindMissing, "SRVLVL ADD", "", 8, 34, "text", "missing text"}),
		Entry("DESC with a control character", "srvlvl add 720 l2 basedon l1 desc bad\x01char",
			want{sm.KindBadText, "SRVLVL ADD", "bad\x01char", 8, 35, "text", "not allowed"}),
		Entry("DESC with a word that would be a table tag", "srvlvl add 720 l2 basedon l1 desc August :LOCK.ON",
			want{sm.KindBadText, "SRVLVL ADD", ":LOCK.ON", 9, 42, "text", "would read back as a tag of the Service Level Table"}),
		Entry("missing target", "system put2prod 720",
			want{sm.KindMissing, "SYSTEM PUT2PROD", "", 4, 20, "system|nickname|ALL", "missing"}),
		Entry("missing operand before the options", "srvlvl add 720 l2 (test",
			want{sm.KindMissing, "SRVLVL ADD", "(", 5, 19, "BASEDON", "missing BASEDON"}),
		Entry("multi-line, mixed case: columns count newlines", "SERVMGR SrvLvl ADD 720\n  vm010802_BLD2 BASEDON\nBASE nonesm desc",
			want{sm.KindMissing, "SRVLVL ADD", "", 10, 64, "text", "missing text"}),
		Entry("PASSWORD is no option", "system add 720 vm01 l1 hostname h (password secret",
			want{sm.KindUnknownOption, "SYSTEM ADD", "password", 9, 36, "PORT, REQUIRE, NOREQUIRE or NOCONTACT", "unknown option"}),
	)

	It("prints the token, position, column, reason and form", func() {
		_, err := sm.Parse("srvlvl add 720 vm010802_BLD2 basedonn vm010102_BLD1")
		Expect(err).To(MatchError(`SERVMGR SRVLVL ADD: token 5 "basedonn" at column 30: expected BASEDON; form: SRVLVL ADD vrm level BASEDON level [NONESM] [DESC text]`))
		_, err = sm.Parse("system put2prod 720")
		Expect(err).To(MatchError(`SERVMGR SYSTEM PUT2PROD: end of line at column 20: missing system|nickname|ALL; form: SYSTEM PUT2PROD vrm system|nickname|ALL [(CANARY target WAVES n|n%[,...] BUDGET n|n% DEADLINE secs|dur RESTART]`))
	})

	Describe("staged roll-out options", func() {
		It("parse on SEND and PUT2PROD and print back as typed", func() {
			c, err := sm.Parse("srvlvl send 720 l2 all (stable canary canary waves 2,25% budget 10% deadline 600")
			Expect(err).NotTo(HaveOccurred())
			send := c.(sm.SrvlvlSend)
			Expect(send.Stable).To(BeTrue())
			Expect(*send.Rollout).To(Equal(fleet.Rollout{Canary: "CANARY", Waves: []rollout.Size{{N: 2}, {N: 25, Percent: true}},
				Budget: rollout.Size{N: 10, Percent: true}, Deadline: 10 * time.Minute}))
			Expect(c.String()).To(Equal("SRVLVL SEND 720 L2 ALL (STABLE CANARY CANARY WAVES 2,25% BUDGET 10% DEADLINE 10m0s)"))
			again, err := sm.Parse(c.String())
			Expect(err).NotTo(HaveOccurred())
			Expect(again).To(Equal(c))
			c, err = sm.Parse("system put2prod 720 waves (budget 3 deadline 90s restart")
			Expect(err).NotTo(HaveOccurred())
			Expect(*c.(sm.SystemPut2Prod).Rollout).To(Equal(fleet.Rollout{Budget: rollout.Size{N: 3}, Deadline: 90 * time.Second, Restart: true}))
		})
		It("leave Rollout nil without roll-out options", func() {
			c, err := sm.Parse("srvlvl send 720 l2 all (test")
			Expect(err).NotTo(HaveOccurred())
			Expect(c.(sm.SrvlvlSend).Rollout).To(BeNil())
		})
		DescribeTable("refuse bad values at the value's column", func(line, token, reason string) {
			_, err := sm.Parse(line)
			se, ok := sm.AsSyntaxError(err)
			Expect(ok).To(BeTrue(), "%v", err)
			Expect(se.Kind).To(Equal(sm.KindBadValue))
			Expect(se.Token).To(Equal(token))
			Expect(se.Col).To(Equal(strings.Index(line, token) + 1))
			Expect(se.Reason).To(ContainSubstring(reason))
		},
			Entry("a zero wave", "srvlvl send 720 l2 all (waves 2,0", "2,0", `WAVES: "0" is not a count`),
			Entry("a budget over 100%", "system put2prod 720 all (budget 150%", "150%", "more than 100%"),
			Entry("a deadline in words", "system put2prod 720 all (deadline soon", "soon", "not a positive number of seconds"),
		)
	})

	It("never echoes the value of a PASSWORD-like word", func() {
		_, err := sm.Parse("system add 720 vm01 l1 hostname h (password secret")
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).NotTo(ContainSubstring("secret"))
		se, _ := sm.AsSyntaxError(err)
		for _, l := range se.Lines() {
			Expect(l.String()).NotTo(ContainSubstring("secret"))
		}
	})

	It("renders as messages: the error and the form", func() {
		_, err := sm.Parse("srvlvl add 720 vm010802_BLD2 basedonn vm010102_BLD1")
		se, _ := sm.AsSyntaxError(err)
		Expect(lineStrings(se.Lines())).To(Equal([]string{
			`CSM0010E Syntax error in SERVMGR SRVLVL ADD, token 5 "basedonn" at column 30: expected BASEDON`,
			`CSM0012I Form: SRVLVL ADD vrm level BASEDON level [NONESM] [DESC text]`,
		}))
		_, err = sm.Parse("srvlvl add 720 l2 basedon l1 desc")
		se, _ = sm.AsSyntaxError(err)
		Expect(lineStrings(se.Lines())).To(Equal([]string{
			`CSM0011E Syntax error in SERVMGR SRVLVL ADD at end of line, column 34: missing text`,
			`CSM0012I Form: SRVLVL ADD vrm level BASEDON level [NONESM] [DESC text]`,
		}))
		var r msg.Result
		r.Add(se.Lines()...)
		Expect(r.RC).To(Equal(8))
	})

	It("answers an empty line with the usage", func() {
		_, err := sm.Parse("   \n ")
		se, ok := sm.AsSyntaxError(err)
		Expect(ok).To(BeTrue())
		lines := se.Lines()
		Expect(lines[0].String()).To(Equal("CSM0013E No operand given; SERVMGR needs INITIALIZE, MANAGED, SYSTEM or SRVLVL"))
		Expect(lines[1:]).To(HaveLen(len(sm.Forms())))
		for i, f := range sm.Forms() {
			Expect(lines[1+i].String()).To(Equal("CSM0012I Form: " + f))
		}
	})
})

var _ = Describe("Usage", func() {
	It("gives one form by name, in any case", func() {
		Expect(sm.Usage("srvlvl  add")).To(Equal("SRVLVL ADD vrm level BASEDON level [NONESM] [DESC text]"))
		Expect(sm.Usage("INITIALIZE")).To(Equal("INITIALIZE vrm"))
	})
	It("gives the forms of an operand", func() {
		Expect(strings.Split(sm.Usage("system"), "\n")).To(HaveLen(6))
		Expect(strings.Split(sm.Usage("SRVLVL"), "\n")).To(HaveLen(9))
	})
	It("gives every form for no name, and nothing for an unknown one", func() {
		Expect(sm.Forms()).To(HaveLen(17))
		Expect(sm.Usage("")).To(Equal(strings.Join(sm.Forms(), "\n")))
		Expect(sm.Usage("SYSTEM FROB")).To(BeEmpty())
		Expect(sm.Usage("SYS")).To(BeEmpty())
	})
	It("has a form for the name of every command", func() {
		for _, line := range []string{seedInitialize, "managed on", seedSystemAdd, "system delete 720 a",
			"system modify 720 a (port 1", seedPut2Prod, "system query 720", "system servcheck 720 all",
			seedAddBLD1, "srvlvl delete 720 l", "srvlvl localmod 720 l c e", seedServBLD1, seedPackage,
			seedSendTest, seedSetlock, "srvlvl query 720", "srvlvl vmfsetup 720 l c"} {
			c, err := sm.Parse(line)
			Expect(err).NotTo(HaveOccurred())
			Expect(sm.Usage(c.Name())).To(HavePrefix(c.Name() + " "))
		}
	})
})

func lineStrings(ls []msg.Line) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.String()
	}
	return out
}
