package emulate

// ParseControl exposes parseControl to the black-box tests: it returns the
// control message's type name, or an error wrapping ErrBadControl.
func ParseControl(b []byte) (string, error) {
	c, err := parseControl(b)
	if err != nil {
		return "", err
	}
	return c.String(), nil
}
