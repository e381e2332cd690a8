package testenv

import (
	"net"
	"sync"
	"testing"
)

// SilentServer accepts TCP connections and never answers on them, as a
// hung Git, chart or metrics server does. The connections stay open until
// the test ends.
type SilentServer struct {
	listener net.Listener
	mu       sync.Mutex
	conns    []net.Conn
}

// NewSilentServer starts a SilentServer on a loopback port.
func NewSilentServer(t testing.TB) *SilentServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &SilentServer{listener: l}
	go s.accept()
	t.Cleanup(s.close)
	return s
}

// Addr is the server's host:port.
func (s *SilentServer) Addr() string { return s.listener.Addr().String() }

// Accepted is how many connections the server has accepted.
func (s *SilentServer) Accepted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

func (s *SilentServer) accept() {
	for {
		conn, err := s.listener.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns = append(s.conns, conn)
		s.mu.Unlock()
	}
}

func (s *SilentServer) close() {
	_ = s.listener.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		_ = c.Close()
	}
}
