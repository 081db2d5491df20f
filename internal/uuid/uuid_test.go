package uuid_test

import (
	"testing"

	"github.com/maxatome/go-testdeep/td"

	"earshot/internal/uuid"
)

// uuidRe matches a canonical version-4, variant-10 UUID.
const uuidRe = `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`

func TestNew(t *testing.T) {
	ids := make([]string, 2000)
	seen := make(map[string]bool, len(ids))
	for i := range ids {
		ids[i] = uuid.New()
		seen[ids[i]] = true
	}
	td.Cmp(t, ids, td.ArrayEach(td.Re(uuidRe)))
	td.Cmp(t, seen, td.Len(len(ids)), "all unique")
}
