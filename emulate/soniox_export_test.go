package emulate

// SonioxSplitWord exposes splitWord to the black-box tests: the texts of a
// word's tokens, before the leading space.
func SonioxSplitWord(form string) []string {
	ps := splitWord(form)
	texts := make([]string, len(ps))
	for i, p := range ps {
		texts[i] = p.text
	}
	return texts
}
