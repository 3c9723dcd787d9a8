package testenv

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func TestModuleRoot(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "internal", "testenv")); err != nil {
		t.Fatalf("root %s: %v", root, err)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestStartServe(t *testing.T) {
	bin := buildPackage(t, "./internal/testenv/testdata/fakeplinth")
	if again := buildPackage(t, "./internal/testenv/testdata/fakeplinth"); again != bin {
		t.Errorf("built twice: %s, %s", bin, again)
	}
	t.Setenv("TESTENV_PROBE", "must-not-leak")
	inst := StartServe(t, bin, map[string]string{"EXTRA": "given"})

	if got := get(t, inst.URL+"/env?name=EXTRA"); got != "given" {
		t.Errorf("EXTRA = %q", got)
	}
	if got := get(t, inst.URL+"/env?name=PLINTH_LISTEN"); got != inst.Addr {
		t.Errorf("PLINTH_LISTEN = %q, want %q", got, inst.Addr)
	}
	if got := get(t, inst.URL+"/env?name=TESTENV_PROBE"); got != "" {
		t.Errorf("the test's environment leaked: %q", got)
	}
	if err := inst.Stop(); err != nil {
		t.Fatal(err)
	}
	logs := inst.Logs()
	for _, want := range []string{"listening on " + inst.Addr, "env EXTRA asked", "shutting down"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	if err := inst.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}

	killed := StartServe(t, bin, nil)
	if err := killed.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := killed.Stop(); err != nil {
		t.Errorf("Stop after Kill: %v", err)
	}
}

// fatalTB records a Fatal instead of failing the real test.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Fatal(args ...any) {
	f.msg = fmt.Sprint(args...)
	runtime.Goexit()
}

func (f *fatalTB) Fatalf(format string, args ...any) { f.Fatal(fmt.Sprintf(format, args...)) }

func TestStartServeFailure(t *testing.T) {
	bin := buildPackage(t, "./internal/testenv/testdata/fakeplinth")
	ftb := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		StartServe(ftb, bin, map[string]string{"FAKE_FAIL": "boom: no database"})
		t.Error("StartServe returned")
	}()
	<-done
	if !strings.Contains(ftb.msg, "boom: no database") || !strings.Contains(ftb.msg, "exited before ready") {
		t.Errorf("failure does not show the output: %s", ftb.msg)
	}
}
