package source

import (
	"context"
	"net"
	"net/url"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"
	"golang.org/x/net/proxy"
)

// stallScheme names, as the scheme of a proxy URL, the dialer through which
// go-git's SSH transport reaches servers. go-git offers no other hook on an
// SSH connection, and it runs the SSH handshake on it without a deadline or
// a context: a server that accepts the connection and never answers would
// hold a fetch, and the lock of its repository, forever.
const stallScheme = "weir-stall-timeout"

func init() {
	proxy.RegisterDialerType(stallScheme, func(u *url.URL, _ proxy.Dialer) (proxy.Dialer, error) {
		after, err := time.ParseDuration(u.Query().Get("after"))
		return stallDialer{after: after}, err
	})
}

// stallProxy is how go-git must dial ep so that the connection fails once
// the server stays silent for after: through the stall dialer for SSH, and
// as go-git does by default otherwise (HTTP requests and the rest of an SSH
// session are bounded by the caller's context).
func stallProxy(ep *transport.Endpoint, after time.Duration) transport.ProxyOptions {
	if ep == nil || ep.Protocol != "ssh" {
		return transport.ProxyOptions{}
	}
	u := url.URL{Scheme: stallScheme, Path: "/", RawQuery: url.Values{"after": {after.String()}}.Encode()}
	return transport.ProxyOptions{URL: u.String()}
}

// stallDialer dials as go-git does by default (directly, or through the
// proxy of the environment's ALL_PROXY), and bounds every read and write of
// the connection by a deadline.
type stallDialer struct{ after time.Duration }

func (d stallDialer) Dial(network, addr string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, addr)
}

func (d stallDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := proxy.Dial(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &stallConn{Conn: conn, after: d.after}, nil
}

// stallConn fails a read or a write that makes no progress for after.
type stallConn struct {
	net.Conn
	after time.Duration
}

func (c *stallConn) Read(p []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.after)); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *stallConn) Write(p []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.after)); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}
