package ratelimit

import (
	"net/netip"
	"strings"
)

// ClientIP is the address a request came from: the socket peer, unless the
// peer is a trusted proxy; then the rightmost X-Forwarded-For hop that is not
// a trusted proxy (hops left of it were written by the client and prove
// nothing). xff holds every X-Forwarded-For header line in order. With no
// trusted proxies X-Forwarded-For is ignored.
func ClientIP(peer netip.Addr, xff []string, trusted []netip.Prefix) netip.Addr {
	peer = peer.Unmap()
	if !isTrusted(peer, trusted) {
		return peer
	}
	var hops []string
	for _, line := range xff {
		hops = append(hops, strings.Split(line, ",")...)
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			// Garbage from a trusted proxy: the last good hop is the best
			// we know.
			return client
		}
		client = a
		if !isTrusted(a, trusted) {
			return a
		}
	}
	// Every hop is a proxy of ours: the leftmost is the origin.
	return client
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseHop reads "1.2.3.4", "2001:db8::1", "1.2.3.4:5678" or "[2001:db8::1]:5678".
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

// ipSubject is the per-IP counter's identity: an IPv4 address, or the /64 of
// an IPv6 address (one host usually holds a whole /64, so counting single
// addresses would let it walk around the limit).
func ipSubject(a netip.Addr) string {
	if a.Is6() && !a.Is4In6() {
		p, err := a.Prefix(64)
		if err == nil {
			return p.String()
		}
	}
	return a.String()
}
