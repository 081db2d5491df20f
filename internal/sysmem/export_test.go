package sysmem

// SetPaths points Limit at other files and returns a function that
// restores the real ones.
func SetPaths(meminfo, v2, v1 string) (restore func()) {
	m, a, b := meminfoPath, cgroupV2Path, cgroupV1Path
	meminfoPath, cgroupV2Path, cgroupV1Path = meminfo, v2, v1
	return func() { meminfoPath, cgroupV2Path, cgroupV1Path = m, a, b }
}
