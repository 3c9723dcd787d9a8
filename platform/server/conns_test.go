package server

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// lingerPair is a lingering server side and a plain client side of one
// loopback TCP connection.
func lingerPair(t *testing.T) (srv *lingeringConn, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	l := lingeringListener{ln}
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := l.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := <-accepted
	if c == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); c.Close() })
	return c.(*lingeringConn), client
}

func TestLingeringCloseDeliversAnswerBeforeUnreadBytes(t *testing.T) {
	t.Parallel()
	srv, client := lingerPair(t)
	// The client sends far more than the server reads, as a request with an
	// oversized header does, and only then reads the answer.
	sent := make(chan error, 1)
	go func() {
		_, err := client.Write(bytes.Repeat([]byte("x"), 256<<10))
		sent <- err
	}()
	if _, err := io.ReadFull(srv, make([]byte, 1024)); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Write([]byte("answer")); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-sent; err != nil {
		t.Fatalf("client write: %v", err)
	}
	got, err := io.ReadAll(client)
	if err != nil || string(got) != "answer" {
		t.Fatalf("client read %q, %v; want the answer and a clean end", got, err)
	}
}

func TestLingeringCloseWakesBlockedReader(t *testing.T) {
	t.Parallel()
	srv, client := lingerPair(t)
	read := make(chan error, 1)
	go func() {
		_, err := srv.Read(make([]byte, 16))
		read <- err
	}()
	time.Sleep(50 * time.Millisecond) // let the read block
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-read:
		if err == nil {
			t.Fatal("blocked read returned no error after close")
		}
	case <-time.After(lingerTimeout / 2):
		t.Fatal("a close from another goroutine did not wake the blocked read")
	}
	// The client learns at once that the server is gone.
	_ = client.SetReadDeadline(time.Now().Add(time.Second))
	if _, err := client.Read(make([]byte, 1)); err == nil {
		t.Fatal("client read data from a closed connection")
	}
}

func TestLingeringConnAfterClose(t *testing.T) {
	t.Parallel()
	srv, _ := lingerPair(t)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	// Past the linger the drain has closed the socket; the server's own
	// deadline calls must still succeed (fasthttp panics otherwise).
	time.Sleep(lingerTimeout + 100*time.Millisecond)
	if err := srv.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
		t.Errorf("SetWriteDeadline after close: %v", err)
	}
	if err := srv.SetReadDeadline(time.Now().Add(time.Minute)); err != nil {
		t.Errorf("SetReadDeadline after close: %v", err)
	}
	if err := srv.SetDeadline(time.Time{}); err != nil {
		t.Errorf("SetDeadline after close: %v", err)
	}
	if _, err := srv.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("Read after close: %v, want EOF", err)
	}
	if _, err := srv.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Write after close: %v, want net.ErrClosed", err)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
