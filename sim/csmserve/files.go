package csmserve

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	ftpserver "github.com/fclairamb/ftpserverlib"
	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/agent"
	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/servlink"
)

// What a session does to the staging area goes through the methods below,
// so that every error ftpserverlib puts in a reply is one for CSMWORK: the
// file as CSMWORK names it (FN.FT) and what happened, never a path on the
// server (replyErr). The server's log keeps the original error.

// replyError is an error as a reply says it. kind, if set, is the
// ftpserverlib condition that picks the reply code (ErrStorageExceeded:
// 552).
type replyError struct {
	msg  string
	kind error
}

func (e *replyError) Error() string { return e.msg }
func (e *replyError) Unwrap() error { return e.kind }

// heldError refuses a change of the staging area while a job runs.
type heldError struct{ job int }

func (e *heldError) Error() string {
	return fmt.Sprintf("CSMAGENT is busy with job %d; the staging area is held until it ends", e.job)
}

// held is a *heldError while the agent runs a job (JobRunner), else nil.
func (s *Server) held() error {
	if jr, ok := s.cfg.Agent.(JobRunner); ok {
		if n := jr.Running(); n != 0 {
			return &heldError{job: n}
		}
	}
	return nil
}

// isFull says a write failed for lack of space on the staging disk.
func isFull(err error) bool {
	return errors.Is(err, cms.ErrDiskFull) || errors.Is(err, cms.ErrQuotaExceeded) || isNoSpace(err)
}

// fullMessage is the 552 text: the disk, its free blocks now (when the
// staging Fs can tell, as sim/cmsfs's Minidisk.RawFs does), what to do.
func (s *Server) fullMessage(err error) string {
	disk := agent.StagingOwner + " " + agent.StagingVaddr
	var ce *cms.Error
	if errors.As(err, &ce) {
		disk = ce.Object
	}
	what, todo := "staging disk "+disk+" is full", "free space or enlarge it"
	if errors.Is(err, cms.ErrQuotaExceeded) {
		what, todo = "staging area "+disk+" is over its file space limit", "free space or raise the limit"
	}
	if fb, ok := s.cfg.Fs.(interface{ FreeBlocks() int64 }); ok {
		n := fb.FreeBlocks()
		unit := "blocks"
		if n == 1 {
			unit = "block"
		}
		what += fmt.Sprintf(": %d %s free", n, unit)
	}
	return what + "; " + todo
}

// display is name as a reply shows it: FN.FT when it is one, else what
// the client sent (quoted if it holds control characters).
func display(name string) string {
	if fn, err := FileName(name); err == nil {
		return fn
	}
	n := strings.TrimPrefix(name, "/")
	if strings.ContainsFunc(n, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return strconv.Quote(n)
	}
	return n
}

// replyErr turns err, from op on name, into what the reply says.
func (d *session) replyErr(op, name string, err error) error {
	var (
		re *replyError
		he *heldError
		r  *refusal
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &re), errors.As(err, &he), errors.Is(err, errCut):
		return err
	case errors.As(err, &r):
		return &replyError{msg: display(name) + " " + r.why}
	case isFull(err):
		d.srv.log.Warn("staging disk full", "file", display(name), "err", err)
		return &replyError{msg: d.srv.fullMessage(err), kind: ftpserver.ErrStorageExceeded}
	case errors.Is(err, fs.ErrNotExist):
		return &replyError{msg: display(name) + ": no such file in the staging area"}
	case errors.Is(err, fs.ErrExist):
		return &replyError{msg: display(name) + " already exists in the staging area"}
	case errors.Is(err, fs.ErrPermission):
		return &replyError{msg: display(name) + ": the staging disk does not permit this"}
	}
	d.srv.log.Warn("staging area error", "op", op, "file", display(name), "err", err)
	return &replyError{msg: fmt.Sprintf("%s: %s failed on the staging disk; see CSMSERVE's log", display(name), op)}
}

// OpenFile opens a staging file for a transfer; uploads get the CutUpload
// fault, the staging area's hold, and the 552 of a full disk.
func (d *session) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	f, err := d.StagingFs.OpenFile(name, flag, perm)
	if err != nil {
		return nil, d.replyErr("open", name, err)
	}
	up, _ := f.(*upload)
	if up == nil { // a read, or the root as a directory
		return &file{File: f, d: d, name: name}, nil
	}
	fn, _ := FileName(name)
	if d.srv.cfg.CorruptUpload != nil {
		if at, flip := d.srv.cfg.CorruptUpload(fn); flip {
			d.srv.log.Info("fault: flipping a bit of an upload", "file", fn, "at", at)
			f = &flipFile{File: f, at: at}
		}
	}
	if d.srv.cfg.CutUpload != nil {
		if n, cut := d.srv.cfg.CutUpload(fn); cut {
			d.srv.log.Info("fault: cutting upload", "file", fn, "after", n)
			f = &cutFile{File: f, left: n, drop: func() { d.srv.drop(d.cc) }}
		}
	}
	return &file{File: f, d: d, name: name, up: up}, nil
}

// ComputeHash is ftpserverlib's ClientDriverExtensionHasher (XSHA256 and
// HASH): a whole file's SHA-256 comes from its receipt, hashed as it was
// stored, without reading it again; anything else is read and hashed.
func (d *session) ComputeHash(name string, algo ftpserver.HASHAlgo, start, end int64) (string, error) {
	if algo == ftpserver.HASHAlgoSHA256 && start == 0 {
		if rc, ok := d.StagingFs.Receipt(name); ok && rc.Size == end {
			return rc.SHA256, nil
		}
	}
	if algo != ftpserver.HASHAlgoSHA256 {
		return "", &replyError{msg: display(name) + ": CSMSERVE computes SHA-256 only"}
	}
	f, err := d.StagingFs.Open(name)
	if err != nil {
		return "", d.replyErr("hash", name, err)
	}
	defer f.Close()
	_, sum, err := servlink.HashReader(io.NewSectionReader(f, start, end-start))
	if err != nil {
		return "", d.replyErr("hash", name, err)
	}
	return sum, nil
}

// Create goes through OpenFile.
func (d *session) Create(name string) (afero.File, error) {
	return d.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
}

func (d *session) Open(name string) (afero.File, error) { return d.OpenFile(name, os.O_RDONLY, 0) }

func (d *session) Stat(name string) (os.FileInfo, error) {
	fi, err := d.StagingFs.Stat(name)
	return fi, d.replyErr("stat", name, err)
}

func (d *session) LstatIfPossible(name string) (os.FileInfo, bool, error) {
	fi, err := d.Stat(name)
	return fi, true, err
}

func (d *session) ReadDir(name string) ([]os.FileInfo, error) {
	infos, err := d.StagingFs.ReadDir(name)
	return infos, d.replyErr("list", name, err)
}

func (d *session) Remove(name string) error {
	return d.replyErr("erase", name, d.StagingFs.Remove(name))
}

func (d *session) RemoveAll(name string) error { return d.Remove(name) }

func (d *session) Rename(oldname, newname string) error {
	err := d.StagingFs.Rename(oldname, newname)
	var r *refusal
	var pe *os.PathError
	if errors.As(err, &r) && errors.As(err, &pe) {
		return d.replyErr("rename", pe.Path, err) // the name refused: either one
	}
	return d.replyErr("rename", oldname, err)
}

func (d *session) Mkdir(name string, perm os.FileMode) error {
	return d.replyErr("mkdir", name, d.StagingFs.Mkdir(name, perm))
}

func (d *session) MkdirAll(name string, perm os.FileMode) error {
	return d.replyErr("mkdir", name, d.StagingFs.MkdirAll(name, perm))
}

func (d *session) Chmod(name string, mode os.FileMode) error {
	return d.replyErr("chmod", name, d.StagingFs.Chmod(name, mode))
}

func (d *session) Chown(name string, uid, gid int) error {
	return d.replyErr("chown", name, d.StagingFs.Chown(name, uid, gid))
}

func (d *session) Chtimes(name string, atime, mtime time.Time) error {
	return d.replyErr("chtimes", name, d.StagingFs.Chtimes(name, atime, mtime))
}

// file is a staging file a session transfers. When an upload cannot go
// on - the disk is full, or a job began to hold the staging area - the
// rest of the data is read and dropped, so that the client finishes
// sending and reads the reply, and Close answers for it: 552 for a full
// disk.
type file struct {
	afero.File
	d      *session
	name   string
	up     *upload // nil for reads
	failed error
}

func (f *file) Read(p []byte) (int, error) {
	n, err := f.File.Read(p)
	if err != nil && err != io.EOF {
		err = f.d.replyErr("read", f.name, err)
	}
	return n, err
}

func (f *file) Write(p []byte) (int, error) {
	if f.up == nil {
		n, err := f.File.Write(p)
		return n, f.d.replyErr("write", f.name, err)
	}
	if f.failed != nil {
		return len(p), nil
	}
	if f.up.tmp == "" {
		// in place, the job would see the bytes at once
		if err := f.d.srv.held(); err != nil {
			f.failed = err
			f.up.Abort(err)
			return len(p), nil
		}
	}
	n, err := f.File.Write(p)
	f.d.srv.cfg.Metrics.Received(int64(n))
	if err != nil && isFull(err) {
		f.failed = err
		return len(p), nil
	}
	if err != nil {
		return n, f.d.replyErr("write", f.name, err)
	}
	return n, nil
}

func (f *file) WriteString(s string) (int, error) { return f.Write([]byte(s)) }

func (f *file) Close() error {
	if f.up != nil && f.failed == nil {
		// the replacement would land while a job runs: drop it
		if err := f.d.srv.held(); err != nil {
			f.failed = err
			f.up.Abort(err)
		}
	}
	err := f.File.Close()
	if f.failed != nil {
		// after the upload is dropped, so that the free blocks count it
		return f.d.replyErr("write", f.name, f.failed)
	}
	return f.d.replyErr("close", f.name, err)
}
