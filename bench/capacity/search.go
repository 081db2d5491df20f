package main

// search finds the largest passing session count: it tries levels in
// ascending order until one fails, then bisects between the last pass
// and the first failure refine times, on multiples of step (no bisection
// when they are step or less apart). pass runs one level. best is 0 when
// the first level failed; tried lists the levels run, in order.
func search(levels []int, refine, step int, pass func(n int) bool) (best int, tried []int) {
	fail := 0
	for _, n := range levels {
		tried = append(tried, n)
		if !pass(n) {
			fail = n
			break
		}
		best = n
	}
	if fail == 0 {
		return best, tried
	}
	lo, hi := best, fail
	for range refine {
		mid := (lo + hi) / 2 / step * step
		if mid <= lo || mid >= hi {
			break
		}
		tried = append(tried, mid)
		if pass(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo, tried
}
