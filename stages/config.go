package stages

// Default applies the defaults convention (see the package doc) to an int
// setting that cannot be off: zero, and any negative value, become d.
func Default(v *int, d int) {
	if *v <= 0 {
		*v = d
	}
}

// DefaultOrOff applies the defaults convention to an int setting that can
// be off: zero becomes d, and any negative value becomes -1 (off).
func DefaultOrOff(v *int, d int) {
	switch {
	case *v == 0:
		*v = d
	case *v < 0:
		*v = -1
	}
}
