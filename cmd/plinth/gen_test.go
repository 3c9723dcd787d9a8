package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plinth-dev/plinth/internal/testserver"
)

func TestGen(t *testing.T) {
	ts := testserver.Start(t)
	p := ts.CreateProject(t, "cli-gen")
	ts.SQL(t, p.Ref, `create table notes (id bigint generated always as identity primary key, body text not null, done boolean default false)`)

	// TypeScript to stdout, token from the environment.
	t.Setenv("PLINTH_ADMIN_TOKEN", testserver.AdminToken)
	var out, errb bytes.Buffer
	if code := run([]string{"gen", "ts", "--url", ts.URL, "--project", p.Ref}, nil, &out, &errb); code != 0 {
		t.Fatalf("gen ts: exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "export type Database") || !strings.Contains(out.String(), "body: string") {
		t.Fatalf("gen ts printed:\n%s", out.String())
	}

	// Go into a file; the package is named after its directory; --token wins.
	t.Setenv("PLINTH_ADMIN_TOKEN", "")
	file := filepath.Join(t.TempDir(), "models", "models.go")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errb.Reset()
	if code := run([]string{"gen", "go", "--url", ts.URL, "--project", p.Ref, "--out", file, "--token", testserver.AdminToken}, nil, &out, &errb); code != 0 {
		t.Fatalf("gen go: exit %d: %s", code, errb.String())
	}
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), "package models\n") || !strings.Contains(string(src), "func Notes(c *plinth.Client)") {
		t.Fatalf("generated file:\n%s", src)
	}
	if out.Len() != 0 {
		t.Errorf("gen --out also printed %q", out.String())
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"gen", "rust", "--url", ts.URL, "--project", p.Ref, "--token", "x"}, "want go or ts"},
		{[]string{"gen", "go", "--url", ts.URL, "--token", "x"}, "--project is required"},
		{[]string{"gen", "go", "--url", ts.URL, "--project", p.Ref}, "admin token is required"},
		{[]string{"gen", "go", "--url", ts.URL, "--project", p.Ref, "--token", "wrong"}, "401"},
		{[]string{"gen", "ts", "--url", ts.URL, "--project", "no-such", "--token", testserver.AdminToken}, "404"},
		{[]string{"gen", "go", "--url", ts.URL, "--project", p.Ref, "--token", testserver.AdminToken, "--package", "not-ok"}, "Invalid Go package name"},
	} {
		out.Reset()
		errb.Reset()
		if code := run(c.args, nil, &out, &errb); code == 0 || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want a failure mentioning %q", c.args[1:], code, errb.String(), c.want)
		}
	}
	if entries, _ := os.ReadDir(filepath.Dir(file)); len(entries) != 1 {
		t.Errorf("%d files beside the output; the temporary file was left behind", len(entries))
	}
}
