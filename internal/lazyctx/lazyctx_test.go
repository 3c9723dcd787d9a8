package lazyctx

import (
	"context"
	"errors"
	"testing"
	"time"
)

type key struct{}

func TestDeadlineWithoutWaiting(t *testing.T) {
	t.Parallel()
	ctx, cancel := WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if d, ok := ctx.Deadline(); !ok || time.Until(d) > 50*time.Millisecond {
		t.Fatalf("deadline %v %v", d, ok)
	}
	if ctx.armed != nil {
		t.Fatal("Deadline armed the timer")
	}
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done not closed at the deadline")
	}
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("Err = %v", ctx.Err())
	}
}

func TestCancelBeforeWaiting(t *testing.T) {
	t.Parallel()
	ctx, cancel := WithTimeout(context.Background(), time.Hour)
	cancel()
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Fatalf("Err after cancel = %v", ctx.Err())
	}
	<-ctx.Done()
	cancel() // twice is fine
}

func TestParentEnds(t *testing.T) {
	t.Parallel()
	parent, cancelParent := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
	ctx, cancel := WithTimeout(parent, time.Hour)
	defer cancel()
	if ctx.Value(key{}) != "v" {
		t.Error("value not inherited")
	}
	if _, ok := Unwatched(ctx); ok {
		t.Error("a cancellable parent must be watched")
	}
	cancelParent()
	<-ctx.Done()
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Fatalf("Err = %v", ctx.Err())
	}
}

func TestParentDeadlineSooner(t *testing.T) {
	t.Parallel()
	parent, cancelParent := context.WithTimeout(context.Background(), time.Second)
	defer cancelParent()
	ctx, cancel := WithTimeout(parent, time.Hour)
	defer cancel()
	pd, _ := parent.Deadline()
	if d, _ := ctx.Deadline(); !d.Equal(pd) {
		t.Errorf("deadline %v, want the parent's %v", d, pd)
	}
}

func TestUnwatched(t *testing.T) {
	t.Parallel()
	ctx, cancel := WithTimeout(context.WithValue(context.Background(), key{}, "v"), time.Minute)
	defer cancel()
	u, ok := Unwatched(ctx)
	if !ok || u.Done() != nil || u.Err() != nil || u.Value(key{}) != "v" {
		t.Fatalf("unwatched view: ok=%v done=%v err=%v", ok, u.Done(), u.Err())
	}
	if d, _ := u.Deadline(); d != ctx.deadline {
		t.Errorf("unwatched deadline %v", d)
	}
	if ctx.armed != nil {
		t.Error("the unwatched view armed the timer")
	}
	plain := context.Background()
	if got, ok := Unwatched(plain); ok || got != plain {
		t.Error("a plain context has no unwatched view")
	}
}
