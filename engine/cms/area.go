package cms

import (
	"fmt"
	"io"
)

// BlockSize is the CMS file system block: files on minidisks formatted with
// BLKSIZE 4096 and in SFS are accounted in 4K blocks.
const BlockSize = 4096

// BlocksFor is the number of 4K blocks a file of size bytes occupies; even an
// empty file holds one block.
func BlocksFor(size int64) int64 {
	if size <= 0 {
		return 1
	}
	return (size + BlockSize - 1) / BlockSize
}

// BlocksPerCylinder is the number of CMS 4K blocks per cylinder of a CKD
// device type: 3390 has 15 tracks of 12 blocks, 3380 15 tracks of 10.
func BlocksPerCylinder(devType string) (int, error) {
	switch devType {
	case "3390":
		return 15 * 12, nil
	case "3380":
		return 15 * 10, nil
	}
	return 0, &NameError{"device type", devType, "not a CKD type CMS formats here (use 3390 or 3380)"}
}

// FileInfo describes one file in a FileArea.
type FileInfo struct {
	ID         FileID // FN and FT; FM is zero because an area has no access letter
	ModeNumber int    // 0-6
	Bytes      int64
	Blocks     int64 // BlocksFor(Bytes)
}

// FileWriter streams a new file. Close commits it atomically, replacing any
// file of the same name; Abort (or any failed Write or Close) leaves nothing
// behind and the previous file as it was.
type FileWriter interface {
	io.WriteCloser
	Abort() error
}

// FileArea is a place that holds CMS files: a minidisk's file area or an SFS
// directory. String names it for messages ("MAINT 0190", "VMPSFS:CSM720.BASE").
type FileArea interface {
	fmt.Stringer
	// Create starts writing id. The file's mode number is id's, or 1 when id
	// has no file mode. Space is charged as bytes arrive: a write past the
	// area's limit fails with ErrDiskFull or ErrQuotaExceeded.
	Create(id FileID) (FileWriter, error)
	Open(id FileID) (io.ReadCloser, error)
	Stat(id FileID) (FileInfo, error)
	// List returns every file, sorted by file name then file type.
	List() ([]FileInfo, error)
	Erase(id FileID) error
	// Rename fails with ErrExists if to exists. The mode number becomes to's
	// when to has a file mode, else it stays.
	Rename(from, to FileID) error
}

// RangeLinker is a FileArea that can put bytes of a file open from another
// area of the same system in place as a file of its own without writing
// them again, where its storage allows (the simulator: a hard link of a
// SERVLINK member that CSMSERVE kept as a file of its own). It is an
// optional capability, as the extension interfaces of an FTP server
// driver are: LOAD copies where it is missing or says no.
type RangeLinker interface {
	// CanLinkRange reports whether LinkRange would link size bytes at off
	// of src (a Guard asks its checks only then, so that a link is
	// checked as the one create and commit a copy is).
	CanLinkRange(src io.Reader, off, size int64) bool
	// LinkRange makes dst the size bytes at off of src, a reader that an
	// Open of a FileArea returned. linked false (and no error) means it
	// cannot: nothing was changed, and the caller copies. Space is
	// charged as Create charges it.
	LinkRange(src io.Reader, off, size int64, dst FileID) (linked bool, err error)
}

// Minidisk is a CMS-formatted minidisk. The last RecompCylinders hold the
// nucleus and are outside the file area: CapacityBlocks excludes them.
type Minidisk interface {
	FileArea
	Owner() string   // owning userid, upper case
	Vaddr() string   // 4 upper-case hex digits, e.g. "0190"
	DevType() string // "3390" or "3380"
	Cylinders() int
	// RecompCylinders is the recomp area: the first cylinder (relative to the
	// minidisk) and the count; count is 0 when there is none.
	RecompCylinders() (start, count int)
	CapacityBlocks() int64
	UsedBlocks() int64
}

// FilePool is an SFS file pool. Users named in by/admin arguments are
// userids; only file pool administrators may enroll, and only a file
// space's owner or an administrator may create or erase its directories.
type FilePool interface {
	Name() string
	IsAdmin(user string) bool
	// EnrollAdmin makes user an administrator (ENROLL ADMIN); by must be one.
	EnrollAdmin(by, user string) error
	// Enroll gives user a file space of blocks 4K blocks (ENROLL USER).
	Enroll(admin, user string, blocks int64) error
	// ModifyUser sets an enrolled file space's limit (MODIFY USER).
	ModifyUser(admin, user string, blocks int64) error
	// Quota is a file space's limit and the blocks it uses.
	Quota(space string) (limit, used int64, err error)
	// FreeBlocks is the pool's capacity minus the blocks all file spaces use.
	FreeBlocks() int64

	CreateDir(dir DirID, by string) error
	Dir(dir DirID) (FileArea, error)
	// ListDirs lists every directory below under, parents before children.
	ListDirs(under DirID) ([]DirID, error)
	// EraseDir erases an empty directory; EraseTree erases one with all it holds.
	EraseDir(dir DirID, by string) error
	EraseTree(dir DirID, by string) error

	// Unload writes dir's whole tree to w (FILEPOOL UNLOAD).
	Unload(dir DirID, w io.Writer) error
	// Load reads an Unload stream into target (FILEPOOL LOAD), creating it if
	// needed (its parent must exist) and replacing files of the same name.
	// It verifies the whole stream and the quota before changing anything;
	// errors in the stream or over a limit are *LoadError.
	Load(r io.Reader, target DirID) error
}
