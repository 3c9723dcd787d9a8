package loadcache

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestLoadsOnceAndCaches(t *testing.T) {
	var loads atomic.Int32
	release := make(chan struct{})
	c := New(10, 0, func(_ context.Context, key string) (string, error) {
		loads.Add(1)
		<-release
		return "v:" + key, nil
	})
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if v, err := c.Get(context.Background(), "a"); err != nil || v != "v:a" {
				t.Errorf("got %q %v", v, err)
			}
		})
	}
	time.Sleep(20 * time.Millisecond) // let them all join the flight
	close(release)
	wg.Wait()
	if n := loads.Load(); n != 1 {
		t.Fatalf("%d loads for 20 concurrent callers, want 1", n)
	}
	if v, _ := c.Get(context.Background(), "a"); v != "v:a" || loads.Load() != 1 || c.Len() != 1 {
		t.Fatalf("second get: %q, %d loads, %d held", v, loads.Load(), c.Len())
	}
}

// A load that began before an invalidation answers its callers but is not
// kept, and a caller after the invalidation starts a load of its own.
func TestInvalidationDuringLoad(t *testing.T) {
	var version atomic.Int32
	started, release := make(chan struct{}), make(chan struct{})
	c := New(10, 0, func(_ context.Context, _ string) (int32, error) {
		v := version.Load()
		if v == 0 {
			close(started)
			<-release
		}
		return v, nil
	})
	done := make(chan int32)
	go func() { v, _ := c.Get(context.Background(), "k"); done <- v }()
	<-started
	version.Store(1)
	c.Invalidate("k")
	if v, err := c.Get(context.Background(), "k"); err != nil || v != 1 {
		t.Fatalf("caller after the invalidation got %d %v, want the new value 1", v, err)
	}
	close(release)
	if v := <-done; v != 0 {
		t.Fatalf("the raced load answered %d, want its own 0", v)
	}
	if v, _ := c.Get(context.Background(), "k"); v != 1 {
		t.Fatalf("cached %d after the race, want 1 (the stale load must not be kept)", v)
	}
}

func TestErrorsAreNotCached(t *testing.T) {
	fail := true
	c := New(10, 0, func(_ context.Context, _ string) (string, error) {
		if fail {
			return "", errors.New("down")
		}
		return "up", nil
	})
	if _, err := c.Get(context.Background(), "k"); err == nil {
		t.Fatal("want the load's error")
	}
	fail = false
	if v, err := c.Get(context.Background(), "k"); err != nil || v != "up" {
		t.Fatalf("after recovery: %q %v", v, err)
	}
	c.Purge()
	if c.Len() != 0 {
		t.Fatal("purge kept values")
	}
}
