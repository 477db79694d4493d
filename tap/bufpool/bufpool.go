package bufpool

import (
	"math/bits"
	"sync"
)

// Buffers for response bodies and RECORD output are recycled by size
// class: an analytics answer can be tens of MB, and allocating (and
// zeroing, and collecting) one per call would cost more CPU than decoding it.
var bufClasses [28]sync.Pool // class k holds buffers of capacity 1<<k

// Get returns a buffer of length n (contents undefined).
func Get(n int) []byte {
	if n == 0 {
		return nil
	}
	k := bits.Len(uint(n - 1)) // smallest k with 1<<k >= n
	if k < 12 {
		k = 12
	}
	if k >= len(bufClasses) {
		return make([]byte, n)
	}
	if p, ok := bufClasses[k].Get().(*[]byte); ok {
		return (*p)[:n]
	}
	return make([]byte, n, 1<<k)
}

// Put recycles a buffer from Get (or any buffer whose capacity is a
// power of two). Nothing may use b afterwards.
func Put(b []byte) {
	c := cap(b)
	if c < 1<<12 || c&(c-1) != 0 {
		return
	}
	k := bits.Len(uint(c)) - 1
	if k >= len(bufClasses) {
		return
	}
	b = b[:0]
	bufClasses[k].Put(&b)
}
