package csmsimtest_test

import (
	"context"
	"fmt"
	"log"
	"net/textproto"

	"github.com/csmsim/csmsim/csmsimtest"
)

// A fleet of three systems at level L1, and a new level L2 built on the
// principal and sent to all of them for test. In a test, NewFleet(t, ...)
// starts it and closes it at the test's end.
func ExampleStartFleet() {
	f, err := csmsimtest.StartFleet(csmsimtest.Systems(3), csmsimtest.Installed("L1", "RSU0801"))
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	ctx := context.Background()
	for _, line := range []string{
		"srvlvl add 720 L2 basedon L1",
		"srvlvl service 720 L2 all rsu0802",
		"srvlvl package 720 L2",
		"srvlvl send 720 L2 all (test",
	} {
		res, err := f.Servmgr(ctx, line)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%-34s RC=%d\n", line, res.RC)
	}
	for _, name := range f.SystemNames() {
		st, err := f.System(name)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: level %s %s, production %s\n", st.Name, st.Level, st.State, st.Prod)
	}
	// Output:
	// srvlvl add 720 L2 basedon L1       RC=0
	// srvlvl service 720 L2 all rsu0802  RC=0
	// srvlvl package 720 L2              RC=0
	// srvlvl send 720 L2 all (test       RC=0
	// VM01: level L2 TEST, production L1
	// VM02: level L2 TEST, production L1
	// VM03: level L2 TEST, production L1
}

// Servmgr's Result: the return code, the messages, and for SEND, PUT2PROD
// and SERVCHECK each system's outcome with what SYSSTAT records of it. A
// refused command is a Result too, with RC 8.
func ExampleFleet_Servmgr() {
	f, err := csmsimtest.StartFleet(csmsimtest.Names("DALLAS", "PARIS"), csmsimtest.Installed("L1", "RSU0801"))
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	ctx := context.Background()
	for _, line := range []string{"srvlvl add 720 L2 basedon L1", "srvlvl service 720 L2 all rsu0802"} {
		if res, err := f.Servmgr(ctx, line); err != nil || res.RC != 0 {
			log.Fatal(line, err, res)
		}
	}
	res, err := f.Servmgr(ctx, "srvlvl send 720 L2 all (test")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("RC", res.RC, res.Lines[0].ID, res.Lines[0].Text)
	res, err = f.Servmgr(ctx, "srvlvl package 720 L2")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("RC", res.RC, "CSM2737I:", res.Has("CSM2737I"))
	res, err = f.Servmgr(ctx, "srvlvl send 720 L2 all (stable")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("RC", res.RC, "CSM3061I:", res.Has("CSM3061I"))
	for _, s := range res.Systems {
		fmt.Printf("%s ok=%v recorded %s %s, messages", s.System, s.OK, s.Level, s.State)
		for _, l := range s.Lines {
			fmt.Print(" ", l.ID)
		}
		fmt.Println()
	}
	// Output:
	// RC 8 CSM2760E Service level L2 of release 720 has no package; enter SERVMGR SRVLVL PACKAGE 720 L2 first
	// RC 0 CSM2737I: true
	// RC 0 CSM3061I: true
	// DALLAS ok=true recorded L2 STABLE, messages CSM3053I CSM3056I
	// PARIS ok=true recorded L2 STABLE, messages CSM3053I CSM3056I
}

// The principal's tables, as typed entries: SYSSTAT's row of each system,
// and a nickname of MAINTCSM NAMES.
func ExampleFleet_Table() {
	f, err := csmsimtest.StartFleet(csmsimtest.Systems(2), csmsimtest.Installed("L1"),
		csmsimtest.Nickname("EAST", "VM01", "VM02"))
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	sysstat, err := f.Table("SYSSTAT")
	if err != nil {
		log.Fatal(err)
	}
	for _, en := range sysstat.List() {
		lvl, _ := en.Get("SRVLVL")
		status, _ := en.Get("STATUS")
		fmt.Println(en.Key(), lvl, status)
	}
	names, err := f.Table("NAMES")
	if err != nil {
		log.Fatal(err)
	}
	east, _ := names.Get("EAST")
	fmt.Println(east)
	// Output:
	// VM01 L1 ADDED
	// VM02 L1 ADDED
	// :NICK.EAST :LIST.VM01 VM02
}

// Without Installed, the principal is fresh and the test types every
// command; Install puts a system at a level as installing z/VM does, and
// Node gives the host and port SYSTEM ADD records.
func ExampleFleet_Install() {
	f, err := csmsimtest.StartFleet()
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	ctx := context.Background()
	run := func(line string) {
		res, err := f.Servmgr(ctx, line)
		if err != nil {
			log.Fatal(err)
		}
		last := res.Lines[len(res.Lines)-2] // the one before CSM0002I ... ended RC=n
		fmt.Printf("RC=%d %s\n", res.RC, last.ID)
	}
	run("initialize 720")
	run("srvlvl add 720 vm010102_BLD1 basedon BASE nonesm desc Initial RSU Install")
	run("srvlvl service 720 vm010102_bld1 all rsu0801")
	if err := f.Install("VM01", "vm010102_bld1"); err != nil {
		log.Fatal(err)
	}
	vm01 := f.Node("VM01")
	run(fmt.Sprintf("system add 720 vm01 vm010102_bld1 nonesm hostname %s commtype ftp (port %d norequire", vm01.Host(), vm01.Port()))
	st, err := f.System("VM01")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(st.Name, st.Level, st.State, st.Prod, "managed:", st.Managed)
	// Output:
	// RC=0 CSM2905I
	// RC=0 CSM2700I
	// RC=0 CSM2730I
	// RC=0 CSM2800I
	// VM01 VM010102_BLD1 STABLE VM010102_BLD1 managed: true
}

// A team's own FTP code talks to a node with the fleet's CSMWORK
// credentials: here a plain exchange with net/textproto, which asks the
// node's agent who it is.
func ExampleFleet_Credentials() {
	f, err := csmsimtest.StartFleet(csmsimtest.Installed("L1"))
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	c, err := textproto.Dial("tcp", f.Node("VM01").Addr())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	user, password := f.Credentials()
	if _, _, err := c.ReadResponse(220); err != nil {
		log.Fatal(err)
	}
	for _, cmd := range []struct {
		line string
		want int
	}{{"USER " + user, 331}, {"PASS " + password, 230}, {"SITE CSMAGENT INFO", 200}} {
		id, err := c.Cmd("%s", cmd.line)
		if err != nil {
			log.Fatal(err)
		}
		c.StartResponse(id)
		code, msg, err := c.ReadResponse(cmd.want)
		c.EndResponse(id)
		if err != nil {
			log.Fatal(err)
		}
		if cmd.want == 200 {
			fmt.Println(code, msg)
		}
	}
	// Output:
	// 200 CSMAGENT SYSTEM VM01 RELEASE 720 SSI - LEVEL L1 MANAGED YES
}
