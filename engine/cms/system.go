package cms

// System is one z/VM system as the engine sees it: its identity and the
// CMS resources a service virtual machine (MAINTCSM, MAINT720) reaches.
type System interface {
	// Name is the system name (SYSTEM_IDENTIFIER), e.g. VM01.
	Name() string
	// SSIName is the SSI cluster the system belongs to, "" if none.
	SSIName() string
	FilePool(name string) (FilePool, error)
	Minidisk(owner, vaddr string) (Minidisk, error)
	// TempDisk defines a temporary minidisk (DEFINE T3390 vaddr cyls) for
	// user, e.g. BLDNUC's nucleus build target. release detaches it.
	TempDisk(user, devType string, cyls int) (disk CylinderIO, release func() error, err error)
}
