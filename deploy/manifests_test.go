// Package deploy_test checks every deployment manifest in deploy/ against
// the code it deploys: the probe paths are routes of the server, every
// PLINTH_* name is a setting of platform/config, the settings serve needs are
// provided, ports agree from the container to the load balancer, images are
// pinned, shutdown outlasts the server's drain, and nothing runs as root.
// The same checks run on broken copies so each one is known to bite.
package deploy_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/plinth-dev/plinth/platform/config"
)

// Postgres connections an instance holds besides its tenant pools: the
// control-plane pool (store.Open, MaxConns 10) and the LISTEN connection.
const (
	controlConns         = 10
	listenerConns        = 1
	superuserReserved    = 3 // Postgres' superuser_reserved_connections default
	defaultMaxConnection = 100
)

// required are the settings `plinth serve` refuses to start without.
var required = []string{"PLINTH_DATABASE_URL", "PLINTH_SECRET_KEY"}

// secretVars must never have a literal value in the repository.
var secretVars = []string{"PLINTH_DATABASE_URL", "PLINTH_SECRET_KEY", "PLINTH_ADMIN_PASSWORD", "PLINTH_ADMIN_TOKEN", "PLINTH_REDIS_URL"}

// facts is what the manifests are checked against, read from the code.
type facts struct {
	vars        map[string]string // env name -> default
	drain       time.Duration     // Config.ShutdownTimeout
	routes      map[string]bool   // GET routes registered on the app
	subcommands map[string]bool   // `plinth X`
	goVersion   string            // go.mod's go line
}

func loadFacts(t *testing.T, root string) facts {
	t.Helper()
	f := facts{vars: map[string]string{}, routes: map[string]bool{}, subcommands: map[string]bool{}}
	for _, v := range config.Vars() {
		f.vars[v.Env] = v.Default
	}
	cfg, err := config.Load(func(string) string { return "" }, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.drain = cfg.ShutdownTimeout

	// Routes: every app.Get/Head/All("/literal", …) in the server package.
	fset := token.NewFileSet()
	srcDir := filepath.Join(root, "platform", "server")
	entries, err := os.ReadDir(srcDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, filepath.Join(srcDir, e.Name()), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || !slices.Contains([]string{"Get", "Head", "All"}, sel.Sel.Name) {
				return true
			}
			if recv, ok := sel.X.(*ast.Ident); !ok || recv.Name != "app" {
				return true
			}
			if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if p, err := strconv.Unquote(lit.Value); err == nil && strings.HasPrefix(p, "/") {
					f.routes[p] = true
				}
			}
			return true
		})
	}
	if !f.routes["/healthz"] {
		t.Fatalf("found no /healthz route in %s (routes seen: %v): update loadFacts", srcDir, f.routes)
	}

	// Subcommands: the case labels of the switch in cmd/plinth's run().
	file, err := parser.ParseFile(fset, filepath.Join(root, "cmd", "plinth", "main.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range file.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok && fn.Name.Name == "run" {
			ast.Inspect(fn, func(n ast.Node) bool {
				if cc, ok := n.(*ast.CaseClause); ok {
					for _, e := range cc.List {
						if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
							s, _ := strconv.Unquote(lit.Value)
							f.subcommands[s] = true
						}
					}
				}
				return true
			})
		}
	}
	if !f.subcommands["serve"] {
		t.Fatalf("found no serve subcommand in cmd/plinth/main.go run(): update loadFacts")
	}

	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go\s+(\S+)`).FindSubmatch(gomod)
	if m == nil {
		t.Fatal("go.mod has no go line")
	}
	f.goVersion = string(m[1])
	return f
}

// report collects problems, each prefixed with the file it is about.
type report struct {
	dir      string
	problems []string
}

func (r *report) add(file, format string, args ...any) {
	rel, err := filepath.Rel(r.dir, file)
	if err != nil {
		rel = file
	}
	r.problems = append(r.problems, "deploy/"+filepath.ToSlash(rel)+": "+fmt.Sprintf(format, args...))
}

// checkDeploy runs every check on the manifests in dir.
func checkDeploy(t *testing.T, f facts, dir string) []string {
	t.Helper()
	r := &report{dir: dir}
	checkDockerfile(r, f, filepath.Join(dir, "Dockerfile"))
	checkCompose(r, f, dir)
	checkKubernetes(r, f, dir)
	checkSystemd(r, f, dir)
	return r.problems
}

// ---------------------------------------------------------------- shared rules

func (f facts) checkEnvNames(r *report, file string, env map[string]string) {
	for name := range env {
		if strings.HasPrefix(name, "PLINTH_") {
			if _, ok := f.vars[name]; !ok {
				r.add(file, "%s is not a setting of platform/config (config.Vars())", name)
			}
		}
	}
}

// setting returns the effective value of name: the manifest's, else the default.
func (f facts) setting(env map[string]string, name string) string {
	if v, ok := env[name]; ok && v != "" {
		return v
	}
	return f.vars[name]
}

func (f facts) listenPort(r *report, file string, env map[string]string) int {
	listen := f.setting(env, "PLINTH_LISTEN")
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		r.add(file, "PLINTH_LISTEN %q: %v", listen, err)
		return 0
	}
	if ip := net.ParseIP(host); host != "" && (ip == nil || !ip.IsUnspecified()) && !isLoopbackOK(file) {
		r.add(file, "PLINTH_LISTEN %q listens on %s only: other containers/pods cannot reach it", listen, host)
	}
	n, _ := strconv.Atoi(port)
	return n
}

// isLoopbackOK: only the single-VM unit sits behind a proxy on the same host.
func isLoopbackOK(file string) bool { return strings.Contains(filepath.ToSlash(file), "/systemd/") }

func (f facts) intSetting(r *report, file string, env map[string]string, name string) int {
	n, err := strconv.Atoi(f.setting(env, name))
	if err != nil {
		r.add(file, "%s: not a number: %v", name, err)
	}
	return n
}

// perInstanceConns is the Postgres connections one instance may hold.
func (f facts) perInstanceConns(r *report, file string, env map[string]string) int {
	return f.intSetting(r, file, env, "PLINTH_TOTAL_CONNS_MAX") + controlConns + listenerConns
}

// imageProblem says what is wrong with an image reference, or "".
func imageProblem(ref string) string {
	switch {
	case ref == "":
		return "no image"
	case strings.Contains(ref, "$"):
		return fmt.Sprintf("image %q is not resolved", ref)
	case strings.Contains(ref, "@sha256:"):
		return ""
	}
	name := ref[strings.LastIndex(ref, "/")+1:]
	i := strings.LastIndex(name, ":")
	if i < 0 {
		return fmt.Sprintf("image %q is not pinned by tag or digest", ref)
	}
	if tag := name[i+1:]; tag == "latest" || tag == "" {
		return fmt.Sprintf("image %q uses the %q tag", ref, tag)
	}
	return ""
}

func isRoot(user string) bool {
	u, _, _ := strings.Cut(strings.TrimSpace(user), ":")
	return u == "" || u == "root" || u == "0"
}

// versionAtLeast compares dotted numeric versions ("1.26.8" >= "1.26").
func versionAtLeast(have, want string) bool {
	h, w := strings.Split(have, "."), strings.Split(want, ".")
	for i := range max(len(h), len(w)) {
		var a, b int
		if i < len(h) {
			a, _ = strconv.Atoi(h[i])
		}
		if i < len(w) {
			b, _ = strconv.Atoi(w[i])
		}
		if a != b {
			return a > b
		}
	}
	return true
}

// parseBytes reads Kubernetes quantities ("512Mi") and Go's GOMEMLIMIT ("460MiB").
func parseBytes(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"B", 1}}
	for _, u := range units {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseInt(n, 10, 64)
			return v * u.mult, err
		}
	}
	return strconv.ParseInt(s, 10, 64)
}

// secretLiteral reports whether a secret setting carries a value written in
// the repository rather than a reference (${VAR} interpolation or nothing).
func secretLiteral(name, value string) bool {
	if value == "" || strings.Contains(value, "${") {
		return false
	}
	if name == "PLINTH_DATABASE_URL" || name == "PLINTH_REDIS_URL" {
		// A URL is fine as long as its password is not written out.
		rest := value
		if _, after, ok := strings.Cut(value, "://"); ok {
			rest = after
		}
		userinfo, _, hasAt := strings.Cut(rest, "@")
		_, pw, hasPw := strings.Cut(userinfo, ":")
		return hasAt && hasPw && pw != ""
	}
	return true
}

// readEnvFile parses KEY=VALUE lines (an env file or .env).
func readEnvFile(r *report, path string) map[string]string {
	data, err := os.ReadFile(path)
	if err != nil {
		r.add(path, "%v", err)
		return nil
	}
	env := map[string]string{}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			r.add(path, "line %d is not KEY=VALUE", i+1)
			continue
		}
		env[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"'`)
	}
	return env
}

// checkEnvExample: an example settings file names real settings, lists the
// required ones and ships no secret values.
func (f facts) checkEnvExample(r *report, path string, needRequired bool) map[string]string {
	env := readEnvFile(r, path)
	f.checkEnvNames(r, path, env)
	if needRequired {
		for _, name := range required {
			if _, ok := env[name]; !ok {
				r.add(path, "does not list %s, which serve requires", name)
			}
		}
	}
	for _, name := range secretVars {
		if v := env[name]; secretLiteral(name, v) {
			r.add(path, "%s has a literal secret value; leave it empty in the example", name)
		}
	}
	return env
}

// ---------------------------------------------------------------- Dockerfile

type instruction struct {
	cmd  string // upper case
	args string
	line int
}

func readDockerfile(path string) ([]instruction, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []instruction
	var cur strings.Builder
	start := 0
	for i, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue // a blank or comment line inside a continued instruction
		}
		if s, ok := strings.CutSuffix(trimmed, `\`); ok {
			cur.WriteString(s + " ")
			continue
		}
		cur.WriteString(trimmed)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args), line: start})
		cur.Reset()
	}
	return out, nil
}

// execForm parses a JSON-array instruction argument (CMD ["a","b"]).
func execForm(s string) ([]string, bool) {
	var out []string
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, false
	}
	return out, true
}

// envPairs parses ENV k=v k2=v2 (no spaces inside values).
func envPairs(s string) map[string]string {
	env := map[string]string{}
	for _, kv := range strings.Fields(s) {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = strings.Trim(v, `"`)
	}
	return env
}

func checkDockerfile(r *report, f facts, path string) {
	ins, err := readDockerfile(path)
	if err != nil {
		r.add(path, "%v", err)
		return
	}
	globalArgs := map[string]string{}
	expand := func(s string) string {
		return os.Expand(s, func(k string) string { return globalArgs[k] })
	}
	type stage struct {
		image, name string
		ins         []instruction
	}
	var stages []*stage
	for _, in := range ins {
		switch {
		case in.cmd == "ARG" && len(stages) == 0:
			k, v, _ := strings.Cut(in.args, "=")
			globalArgs[k] = v
		case in.cmd == "FROM":
			fields := strings.Fields(in.args)
			st := &stage{image: expand(fields[0])}
			if len(fields) == 3 && strings.EqualFold(fields[1], "AS") {
				st.name = fields[2]
			}
			stages = append(stages, st)
		case len(stages) > 0:
			stages[len(stages)-1].ins = append(stages[len(stages)-1].ins, in)
		}
	}
	if len(stages) < 2 {
		r.add(path, "want a multi-stage build (builder + small runtime), found %d stage(s)", len(stages))
		return
	}
	names := map[string]bool{}
	goPinned := false
	for _, st := range stages {
		if names[st.image] || st.image == "scratch" {
			continue // an earlier stage, or the empty image
		}
		if p := imageProblem(st.image); p != "" {
			r.add(path, "FROM: %s", p)
		}
		if repo, tag, ok := strings.Cut(strings.Split(st.image, "@")[0], ":"); ok && strings.HasSuffix(repo, "golang") {
			v := regexp.MustCompile(`^\d+(\.\d+)*`).FindString(tag)
			if !versionAtLeast(v, f.goVersion) {
				r.add(path, "builder %s is older than go.mod's go %s", st.image, f.goVersion)
			}
			goPinned = true
		}
		names[st.name] = true
	}
	if !goPinned {
		r.add(path, "no golang builder stage found")
	}

	static := false
	for _, st := range stages[:len(stages)-1] {
		for _, in := range st.ins {
			if (in.cmd == "ENV" || in.cmd == "RUN") && strings.Contains(in.args, "CGO_ENABLED=0") {
				static = true
			}
		}
	}
	if !static {
		r.add(path, "the build stage does not set CGO_ENABLED=0 (static binary)")
	}

	final := stages[len(stages)-1]
	env := map[string]string{}
	var user, expose string
	var entrypoint, cmd, health []string
	for _, in := range final.ins {
		switch in.cmd {
		case "USER":
			user = in.args
		case "ENV":
			for k, v := range envPairs(in.args) {
				env[k] = v
			}
		case "EXPOSE":
			expose = strings.TrimSuffix(in.args, "/tcp")
		case "ENTRYPOINT":
			entrypoint, _ = execForm(in.args)
		case "CMD":
			cmd, _ = execForm(in.args)
		case "HEALTHCHECK":
			_, c, _ := strings.Cut(in.args, "CMD ")
			var ok bool
			if health, ok = execForm(strings.TrimSpace(c)); !ok {
				r.add(path, "HEALTHCHECK must use the exec form CMD [\"…\"] (the runtime image has no shell)")
			}
		}
	}
	if isRoot(user) {
		r.add(path, "the final stage runs as root (USER %q); set a numeric non-root USER", user)
	}
	f.checkEnvNames(r, path, env)
	port := f.listenPort(r, path, env)
	if expose != strconv.Itoa(port) {
		r.add(path, "EXPOSE %q does not match the PLINTH_LISTEN port %d", expose, port)
	}
	if len(entrypoint) == 0 || len(cmd) == 0 || !f.subcommands[cmd[0]] {
		r.add(path, "ENTRYPOINT %q + CMD %q does not run a plinth subcommand", entrypoint, cmd)
	}
	if len(health) < 2 || len(entrypoint) == 0 || health[0] != entrypoint[0] || !f.subcommands[health[1]] {
		r.add(path, "HEALTHCHECK %q is not `%s <subcommand>` (subcommands: %v)", health, strings.Join(entrypoint, " "), keys(f.subcommands))
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ---------------------------------------------------------------- compose

type composeService struct {
	Image           string            `yaml:"image"`
	Build           *composeBuild     `yaml:"build"`
	Command         []string          `yaml:"command"`
	Environment     map[string]string `yaml:"environment"`
	User            string            `yaml:"user"`
	StopGracePeriod string            `yaml:"stop_grace_period"`
	Volumes         []string          `yaml:"volumes"`
}

type composeBuild struct {
	Context    string `yaml:"context"`
	Dockerfile string `yaml:"dockerfile"`
}

func checkCompose(r *report, f facts, dir string) {
	path := filepath.Join(dir, "compose.yaml")
	raw, err := os.ReadFile(path)
	if err != nil {
		r.add(path, "%v", err)
		return
	}
	var doc struct {
		Services map[string]composeService `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		r.add(path, "%v", err)
		return
	}

	// Interpolated variables without a default must be in the example .env.
	example := f.checkEnvExample(r, filepath.Join(dir, ".env.example"), false)
	for _, m := range regexp.MustCompile(`\$\{([A-Za-z0-9_]+)(:?[-?][^}]*)?\}`).FindAllStringSubmatch(string(raw), -1) {
		if _, ok := example[m[1]]; !ok && !strings.Contains(m[2], "-") {
			r.add(path, "${%s} has no default and is missing from .env.example", m[1])
		}
	}

	var instances []string
	listenPorts := map[int]bool{}
	budget := 0
	for _, name := range keys(doc.Services) {
		svc := doc.Services[name]
		isPlinth := false
		for k := range svc.Environment {
			isPlinth = isPlinth || strings.HasPrefix(k, "PLINTH_")
		}
		for _, v := range svc.Volumes {
			if src, _, ok := strings.Cut(v, ":"); ok && strings.HasPrefix(src, ".") {
				if _, err := os.Stat(filepath.Join(dir, src)); err != nil {
					r.add(path, "service %s mounts %s, which does not exist", name, src)
				}
			}
		}
		if svc.User != "" && isRoot(svc.User) {
			r.add(path, "service %s runs as root", name)
		}
		if !isPlinth {
			if p := imageProblem(svc.Image); p != "" {
				r.add(path, "service %s: %s", name, p)
			}
			continue
		}
		instances = append(instances, name)
		if svc.Build == nil || filepath.ToSlash(filepath.Clean(filepath.Join("deploy", svc.Build.Context, svc.Build.Dockerfile))) != "deploy/Dockerfile" {
			r.add(path, "service %s is not built from deploy/Dockerfile with the repository as context", name)
		} else if svc.Image != "" {
			r.add(path, "service %s names an image as well as a build", name)
		}
		f.checkEnvNames(r, path, svc.Environment)
		for _, req := range required {
			if svc.Environment[req] == "" {
				r.add(path, "service %s does not set %s, which serve requires", name, req)
			}
		}
		for _, s := range secretVars {
			if secretLiteral(s, svc.Environment[s]) {
				r.add(path, "service %s: %s has a literal secret value; interpolate it from .env", name, s)
			}
		}
		listenPorts[f.listenPort(r, path, svc.Environment)] = true
		if d, err := time.ParseDuration(svc.StopGracePeriod); err != nil || d <= f.drain {
			r.add(path, "service %s: stop_grace_period %q must be longer than the server's drain (%s)", name, svc.StopGracePeriod, f.drain)
		}
		budget += f.perInstanceConns(r, path, svc.Environment)
	}
	if len(instances) < 2 {
		r.add(path, "want at least two Plinth instances behind the load balancer, found %v", instances)
	}
	if len(listenPorts) != 1 {
		r.add(path, "Plinth instances listen on different ports: %v", keys(intKeys(listenPorts)))
	}

	// Connection budget against Postgres' max_connections.
	maxConns := defaultMaxConnection
	if pg, ok := doc.Services["postgres"]; ok {
		for i, a := range pg.Command {
			if v, ok := strings.CutPrefix(a, "max_connections="); ok && i > 0 && pg.Command[i-1] == "-c" {
				maxConns, _ = strconv.Atoi(v)
			}
		}
	} else {
		r.add(path, "no postgres service")
	}
	if budget > maxConns-superuserReserved {
		r.add(path, "instances may open %d Postgres connections, more than max_connections %d - %d reserved", budget, maxConns, superuserReserved)
	}

	// The load balancer sends to exactly the instances, on their port.
	var conf string
	for _, name := range keys(doc.Services) {
		for _, v := range doc.Services[name].Volumes {
			if src, dst, _ := strings.Cut(v, ":"); strings.HasPrefix(dst, "/etc/nginx/nginx.conf") {
				conf = filepath.Join(dir, src)
			}
		}
	}
	if conf == "" {
		r.add(path, "no service mounts an nginx.conf load balancer")
		return
	}
	for port := range listenPorts {
		checkNginx(r, conf, instances, port)
	}
}

func intKeys(m map[int]bool) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[strconv.Itoa(k)] = true
	}
	return out
}

func checkNginx(r *report, path string, instances []string, port int) {
	data, err := os.ReadFile(path)
	if err != nil {
		r.add(path, "%v", err)
		return
	}
	var conf []string // directives without comments
	for _, line := range strings.Split(string(data), "\n") {
		line, _, _ = strings.Cut(line, "#")
		conf = append(conf, strings.TrimSpace(line))
	}
	text := strings.Join(conf, "\n")
	up := regexp.MustCompile(`(?s)upstream\s+(\S+)\s*\{(.*?)\}`).FindStringSubmatch(text)
	if up == nil {
		r.add(path, "no upstream block")
		return
	}
	if !strings.Contains(text, "proxy_pass http://"+up[1]+";") {
		r.add(path, "nothing is proxied to upstream %s", up[1])
	}
	for _, lb := range []string{"least_conn", "ip_hash", "hash ", "random"} {
		if strings.Contains(up[2], lb) {
			r.add(path, "upstream %s uses %s; want round-robin", up[1], strings.TrimSpace(lb))
		}
	}
	var hosts []string
	for _, m := range regexp.MustCompile(`(?m)^server\s+([^\s:;]+):(\d+)`).FindAllStringSubmatch(up[2], -1) {
		hosts = append(hosts, m[1])
		if p, _ := strconv.Atoi(m[2]); p != port {
			r.add(path, "upstream server %s:%s does not match the instances' PLINTH_LISTEN port %d", m[1], m[2], port)
		}
	}
	sort.Strings(hosts)
	if !slices.Equal(hosts, instances) {
		r.add(path, "upstream servers %v are not the Plinth services %v", hosts, instances)
	}
}

// ---------------------------------------------------------------- Kubernetes

type k8sObject struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name        string            `yaml:"name"`
		Labels      map[string]string `yaml:"labels"`
		Annotations map[string]string `yaml:"annotations"`
	} `yaml:"metadata"`
	Spec yaml.Node         `yaml:"spec"`
	Data map[string]string `yaml:"data"`
	file string
}

type selector struct {
	MatchLabels map[string]string `yaml:"matchLabels"`
}

type probe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port string `yaml:"port"`
	} `yaml:"httpGet"`
}

type container struct {
	Name  string   `yaml:"name"`
	Image string   `yaml:"image"`
	Args  []string `yaml:"args"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	EnvFrom []struct {
		ConfigMapRef *struct {
			Name string `yaml:"name"`
		} `yaml:"configMapRef"`
		SecretRef *struct {
			Name string `yaml:"name"`
		} `yaml:"secretRef"`
	} `yaml:"envFrom"`
	Env []struct {
		Name      string `yaml:"name"`
		Value     string `yaml:"value"`
		ValueFrom *struct {
			SecretKeyRef *struct {
				Name     string `yaml:"name"`
				Key      string `yaml:"key"`
				Optional bool   `yaml:"optional"`
			} `yaml:"secretKeyRef"`
		} `yaml:"valueFrom"`
	} `yaml:"env"`
	StartupProbe   *probe `yaml:"startupProbe"`
	ReadinessProbe *probe `yaml:"readinessProbe"`
	LivenessProbe  *probe `yaml:"livenessProbe"`
	Lifecycle      struct {
		PreStop *struct {
			Sleep *struct {
				Seconds int `yaml:"seconds"`
			} `yaml:"sleep"`
		} `yaml:"preStop"`
	} `yaml:"lifecycle"`
	Resources struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	SecurityContext struct {
		RunAsNonRoot             *bool  `yaml:"runAsNonRoot"`
		RunAsUser                *int64 `yaml:"runAsUser"`
		ReadOnlyRootFilesystem   *bool  `yaml:"readOnlyRootFilesystem"`
		AllowPrivilegeEscalation *bool  `yaml:"allowPrivilegeEscalation"`
		Capabilities             struct {
			Drop []string `yaml:"drop"`
		} `yaml:"capabilities"`
	} `yaml:"securityContext"`
}

type deploymentSpec struct {
	Selector selector `yaml:"selector"`
	Strategy struct {
		RollingUpdate struct {
			MaxSurge string `yaml:"maxSurge"`
		} `yaml:"rollingUpdate"`
	} `yaml:"strategy"`
	Template struct {
		Metadata struct {
			Labels map[string]string `yaml:"labels"`
		} `yaml:"metadata"`
		Spec struct {
			TerminationGracePeriodSeconds *int `yaml:"terminationGracePeriodSeconds"`
			SecurityContext               struct {
				RunAsNonRoot *bool  `yaml:"runAsNonRoot"`
				RunAsUser    *int64 `yaml:"runAsUser"`
			} `yaml:"securityContext"`
			Containers []container `yaml:"containers"`
		} `yaml:"spec"`
	} `yaml:"template"`
}

func readK8s(r *report, dir string) (objs []*k8sObject, kust struct {
	Resources []string `yaml:"resources"`
	Images    []struct {
		Name   string `yaml:"name"`
		NewTag string `yaml:"newTag"`
		Digest string `yaml:"digest"`
	} `yaml:"images"`
}) {
	kpath := filepath.Join(dir, "kustomization.yaml")
	data, err := os.ReadFile(kpath)
	if err != nil {
		r.add(kpath, "%v", err)
		return
	}
	if err := yaml.Unmarshal(data, &kust); err != nil {
		r.add(kpath, "%v", err)
		return
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	for _, file := range files {
		if filepath.Base(file) == "kustomization.yaml" {
			continue
		}
		if !slices.Contains(kust.Resources, filepath.Base(file)) {
			r.add(kpath, "%s is not listed in resources", filepath.Base(file))
		}
	}
	for _, res := range kust.Resources {
		file := filepath.Join(dir, res)
		fh, err := os.Open(file)
		if err != nil {
			r.add(kpath, "resource %s: %v", res, err)
			continue
		}
		dec := yaml.NewDecoder(fh)
		for {
			o := &k8sObject{file: file}
			if err := dec.Decode(o); err != nil {
				if !errors.Is(err, io.EOF) {
					r.add(file, "%v", err)
				}
				break
			}
			if o.APIVersion == "" || o.Kind == "" || o.Metadata.Name == "" {
				r.add(file, "a document without apiVersion, kind or metadata.name")
				continue
			}
			objs = append(objs, o)
		}
		fh.Close()
	}
	return objs, kust
}

func checkKubernetes(r *report, f facts, base string) {
	dir := filepath.Join(base, "k8s")
	objs, kust := readK8s(r, dir)
	byKind := map[string][]*k8sObject{}
	for _, o := range objs {
		byKind[o.Kind] = append(byKind[o.Kind], o)
	}
	for _, img := range kust.Images {
		if p := imageProblem(img.Name + ":" + img.NewTag + img.Digest); img.Digest == "" && p != "" {
			r.add(filepath.Join(dir, "kustomization.yaml"), "images: %s", p)
		}
	}
	for _, s := range byKind["Secret"] {
		r.add(s.file, "Secret %s is in the repository; reference secrets, never ship them", s.Metadata.Name)
	}
	if len(byKind["Deployment"]) != 1 {
		r.add(dir, "want one Deployment, found %d", len(byKind["Deployment"]))
		return
	}
	dobj := byKind["Deployment"][0]
	var d deploymentSpec
	if err := dobj.Spec.Decode(&d); err != nil {
		r.add(dobj.file, "%v", err)
		return
	}
	pod := d.Template.Spec
	if len(pod.Containers) != 1 {
		r.add(dobj.file, "want one container, found %d", len(pod.Containers))
		return
	}
	c := pod.Containers[0]
	file := dobj.file
	if p := imageProblem(c.Image); p != "" {
		r.add(file, "%s", p)
	}
	if len(c.Args) == 0 || c.Args[0] != "serve" {
		r.add(file, "container args %q do not run `plinth serve`", c.Args)
	}

	// Environment: ConfigMap values plus secret references.
	env := map[string]string{}
	configMaps := map[string]*k8sObject{}
	for _, cm := range byKind["ConfigMap"] {
		configMaps[cm.Metadata.Name] = cm
	}
	for _, ef := range c.EnvFrom {
		switch {
		case ef.ConfigMapRef != nil:
			cm := configMaps[ef.ConfigMapRef.Name]
			if cm == nil {
				r.add(file, "envFrom ConfigMap %q is not in the base", ef.ConfigMapRef.Name)
				continue
			}
			f.checkEnvNames(r, cm.file, cm.Data)
			for k, v := range cm.Data {
				env[k] = v
				if slices.Contains(secretVars, k) {
					r.add(cm.file, "%s is a secret: reference it from a Secret, not a ConfigMap", k)
				}
			}
		case ef.SecretRef != nil:
			r.add(file, "envFrom Secret %q: name each secret variable with secretKeyRef so the test can check it", ef.SecretRef.Name)
		}
	}
	readme, _ := os.ReadFile(filepath.Join(base, "README.md"))
	for _, e := range c.Env {
		if !strings.HasPrefix(e.Name, "PLINTH_") {
			continue
		}
		f.checkEnvNames(r, file, map[string]string{e.Name: ""})
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			ref := e.ValueFrom.SecretKeyRef
			env[e.Name] = "secret:" + ref.Name + "/" + ref.Key
			if slices.Contains(required, e.Name) && ref.Optional {
				r.add(file, "%s is required by serve but its secretKeyRef is optional", e.Name)
			}
			if !strings.Contains(string(readme), ref.Key) {
				r.add(file, "secret key %q (for %s) is not documented in deploy/README.md", ref.Key, e.Name)
			}
			continue
		}
		env[e.Name] = e.Value
		if slices.Contains(secretVars, e.Name) && e.Value != "" {
			r.add(file, "%s has a literal value; use a secretKeyRef", e.Name)
		}
	}
	for _, req := range required {
		if env[req] == "" {
			r.add(file, "%s is not provided (serve requires it)", req)
		}
	}

	// Ports: PLINTH_LISTEN = containerPort = probes = Service targetPort = NetworkPolicy.
	listen := f.listenPort(r, file, env)
	portOf := func(p string) int {
		if n, err := strconv.Atoi(p); err == nil {
			return n
		}
		for _, cp := range c.Ports {
			if cp.Name == p {
				return cp.ContainerPort
			}
		}
		return 0
	}
	if len(c.Ports) != 1 || c.Ports[0].ContainerPort != listen {
		r.add(file, "containerPort %v does not match the PLINTH_LISTEN port %d", c.Ports, listen)
	}
	probes := []struct {
		name string
		p    *probe
		want string
	}{{"startupProbe", c.StartupProbe, ""}, {"readinessProbe", c.ReadinessProbe, "/readyz"}, {"livenessProbe", c.LivenessProbe, "/healthz"}}
	for _, pr := range probes {
		if pr.p == nil || pr.p.HTTPGet == nil {
			if pr.want != "" {
				r.add(file, "no %s with httpGet", pr.name)
			}
			continue
		}
		if !f.routes[pr.p.HTTPGet.Path] {
			r.add(file, "%s path %s is not a route of the server (%v)", pr.name, pr.p.HTTPGet.Path, keys(f.routes))
		}
		if pr.want != "" && pr.p.HTTPGet.Path != pr.want {
			r.add(file, "%s path %s; want %s", pr.name, pr.p.HTTPGet.Path, pr.want)
		}
		if portOf(pr.p.HTTPGet.Port) != listen {
			r.add(file, "%s port %q is not the listen port %d", pr.name, pr.p.HTTPGet.Port, listen)
		}
	}
	for _, svc := range byKind["Service"] {
		var s struct {
			Selector map[string]string `yaml:"selector"`
			Ports    []struct {
				TargetPort string `yaml:"targetPort"`
			} `yaml:"ports"`
		}
		if err := svc.Spec.Decode(&s); err != nil {
			r.add(svc.file, "%v", err)
			continue
		}
		if !matches(s.Selector, d.Template.Metadata.Labels) {
			r.add(svc.file, "Service selector %v does not select the pods %v", s.Selector, d.Template.Metadata.Labels)
		}
		for _, p := range s.Ports {
			if portOf(p.TargetPort) != listen {
				r.add(svc.file, "Service targetPort %q is not the container's listen port %d", p.TargetPort, listen)
			}
		}
	}
	for _, np := range byKind["NetworkPolicy"] {
		var s struct {
			PodSelector selector `yaml:"podSelector"`
			Ingress     []struct {
				Ports []struct {
					Port string `yaml:"port"`
				} `yaml:"ports"`
			} `yaml:"ingress"`
		}
		if err := np.Spec.Decode(&s); err != nil {
			r.add(np.file, "%v", err)
			continue
		}
		if !matches(s.PodSelector.MatchLabels, d.Template.Metadata.Labels) {
			r.add(np.file, "podSelector does not select the Plinth pods")
		}
		for _, in := range s.Ingress {
			for _, p := range in.Ports {
				if portOf(p.Port) != listen {
					r.add(np.file, "ingress port %q is not the listen port %d", p.Port, listen)
				}
			}
		}
	}
	if len(byKind["NetworkPolicy"]) == 0 {
		r.add(dir, "no NetworkPolicy")
	}

	// Shutdown: the kubelet waits for preStop and the server's drain.
	preStop := 0
	if ps := c.Lifecycle.PreStop; ps != nil && ps.Sleep != nil {
		preStop = ps.Sleep.Seconds
	}
	if g := pod.TerminationGracePeriodSeconds; g == nil || time.Duration(*g)*time.Second <= f.drain+time.Duration(preStop)*time.Second {
		r.add(file, "terminationGracePeriodSeconds must exceed preStop (%ds) + the server's drain (%s)", preStop, f.drain)
	}

	// Non-root, read-only, no privileges.
	nonRoot := (pod.SecurityContext.RunAsNonRoot != nil && *pod.SecurityContext.RunAsNonRoot) || (c.SecurityContext.RunAsNonRoot != nil && *c.SecurityContext.RunAsNonRoot)
	for _, u := range []*int64{pod.SecurityContext.RunAsUser, c.SecurityContext.RunAsUser} {
		if u != nil && *u == 0 {
			nonRoot = false
		}
	}
	if !nonRoot {
		r.add(file, "the pod may run as root: set runAsNonRoot: true and a non-zero runAsUser")
	}
	sc := c.SecurityContext
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		r.add(file, "readOnlyRootFilesystem is not true")
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		r.add(file, "allowPrivilegeEscalation is not false")
	}
	if !slices.Contains(sc.Capabilities.Drop, "ALL") {
		r.add(file, "capabilities are not dropped (drop: [ALL])")
	}

	// Resources, and GOMEMLIMIT below the memory limit.
	for _, k := range []string{"cpu", "memory"} {
		if c.Resources.Requests[k] == "" {
			r.add(file, "no %s request", k)
		}
	}
	memLimit, err := parseBytes(c.Resources.Limits["memory"])
	if err != nil || memLimit == 0 {
		r.add(file, "no valid memory limit (%q)", c.Resources.Limits["memory"])
	}
	for _, e := range c.Env {
		if e.Name == "GOMEMLIMIT" {
			if n, err := parseBytes(e.Value); err != nil || n >= memLimit {
				r.add(file, "GOMEMLIMIT %s must be below the memory limit %s", e.Value, c.Resources.Limits["memory"])
			}
		}
	}

	// The HPA scales this Deployment, within the Postgres connection budget.
	if len(byKind["HorizontalPodAutoscaler"]) != 1 {
		r.add(dir, "want one HorizontalPodAutoscaler")
	}
	for _, h := range byKind["HorizontalPodAutoscaler"] {
		var s struct {
			ScaleTargetRef struct {
				Kind string `yaml:"kind"`
				Name string `yaml:"name"`
			} `yaml:"scaleTargetRef"`
			MinReplicas int `yaml:"minReplicas"`
			MaxReplicas int `yaml:"maxReplicas"`
		}
		if err := h.Spec.Decode(&s); err != nil {
			r.add(h.file, "%v", err)
			continue
		}
		if s.ScaleTargetRef.Kind != "Deployment" || s.ScaleTargetRef.Name != dobj.Metadata.Name {
			r.add(h.file, "scaleTargetRef %v is not the Deployment %s", s.ScaleTargetRef, dobj.Metadata.Name)
		}
		if s.MinReplicas < 2 {
			r.add(h.file, "minReplicas %d: one pod is a single point of failure", s.MinReplicas)
		}
		surge, err := strconv.Atoi(d.Strategy.RollingUpdate.MaxSurge)
		if err != nil {
			r.add(file, "maxSurge %q: give a number so the connection budget can be checked", d.Strategy.RollingUpdate.MaxSurge)
		}
		maxConns, err := strconv.Atoi(h.Metadata.Annotations["plinth.dev/postgres-max-connections"])
		if err != nil {
			r.add(h.file, "annotation plinth.dev/postgres-max-connections is missing or not a number")
			continue
		}
		if need := (s.MaxReplicas + surge) * f.perInstanceConns(r, file, env); need > maxConns-superuserReserved {
			r.add(h.file, "%d pods (maxReplicas + maxSurge) may open %d Postgres connections, more than max_connections %d - %d reserved",
				s.MaxReplicas+surge, need, maxConns, superuserReserved)
		}
	}
	for _, pdb := range byKind["PodDisruptionBudget"] {
		var s struct {
			Selector selector `yaml:"selector"`
		}
		if err := pdb.Spec.Decode(&s); err != nil || !matches(s.Selector.MatchLabels, d.Template.Metadata.Labels) {
			r.add(pdb.file, "selector does not select the Plinth pods")
		}
	}
	if len(byKind["PodDisruptionBudget"]) == 0 {
		r.add(dir, "no PodDisruptionBudget")
	}
}

// matches reports whether a non-empty selector selects labels.
func matches(sel, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// ---------------------------------------------------------------- systemd

func readUnit(path string) (map[string]map[string][]string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	unit := map[string]map[string][]string{}
	section := ""
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			unit[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				return nil, fmt.Errorf("bad line %q", line)
			}
			unit[section][strings.TrimSpace(k)] = append(unit[section][strings.TrimSpace(k)], strings.TrimSpace(v))
		}
	}
	return unit, sc.Err()
}

// systemdDuration reads "35s", "1min 30s" or a bare number of seconds.
func systemdDuration(s string) (time.Duration, error) {
	if n, err := strconv.Atoi(s); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	return time.ParseDuration(strings.ReplaceAll(strings.ReplaceAll(s, "min", "m"), " ", ""))
}

func checkSystemd(r *report, f facts, dir string) {
	path := filepath.Join(dir, "systemd", "plinth.service")
	unit, err := readUnit(path)
	if err != nil {
		r.add(path, "%v", err)
		return
	}
	svc := unit["Service"]
	if svc == nil {
		r.add(path, "no [Service] section")
		return
	}
	last := func(k string) string {
		if v := svc[k]; len(v) > 0 {
			return v[len(v)-1]
		}
		return ""
	}
	if exec := strings.Fields(last("ExecStart")); len(exec) < 2 || !strings.HasSuffix(exec[0], "/plinth") || exec[1] != "serve" || !f.subcommands[exec[1]] {
		r.add(path, "ExecStart %q does not run `plinth serve`", last("ExecStart"))
	}
	if last("EnvironmentFile") == "" {
		r.add(path, "no EnvironmentFile (settings and secrets belong in one)")
	}
	if last("DynamicUser") != "yes" && isRoot(last("User")) {
		r.add(path, "runs as root: set User= (non-root) or DynamicUser=yes")
	}
	if d, err := systemdDuration(last("TimeoutStopSec")); err != nil || d <= f.drain {
		r.add(path, "TimeoutStopSec %q must be longer than the server's drain (%s)", last("TimeoutStopSec"), f.drain)
	}
	for k, want := range map[string]string{"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes", "CapabilityBoundingSet": ""} {
		if v, ok := svc[k]; !ok || v[len(v)-1] != want {
			r.add(path, "hardening: want %s=%s", k, want)
		}
	}
	for _, e := range svc["Environment"] {
		for _, kv := range strings.Fields(e) {
			k, _, _ := strings.Cut(strings.Trim(kv, `"`), "=")
			f.checkEnvNames(r, path, map[string]string{k: ""})
		}
	}
	f.checkEnvExample(r, filepath.Join(dir, "systemd", "plinth.env.example"), true)
}

// ---------------------------------------------------------------- tests

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func TestManifestsMatchTheCode(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	f := loadFacts(t, root)
	for _, p := range checkDeploy(t, f, filepath.Join(root, "deploy")) {
		t.Error(p)
	}
}

// TestKustomizeBuilds renders the base with kubectl's built-in kustomize
// when kubectl is installed (it needs no cluster).
func TestKustomizeBuilds(t *testing.T) {
	t.Parallel()
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl not installed")
	}
	out, err := exec.Command(kubectl, "kustomize", filepath.Join(repoRoot(t), "deploy", "k8s")).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl kustomize: %v\n%s", err, out)
	}
	for _, kind := range []string{"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "ConfigMap", "NetworkPolicy", "ServiceAccount"} {
		if !strings.Contains(string(out), "\nkind: "+kind+"\n") {
			t.Errorf("rendered base has no %s", kind)
		}
	}
	if !strings.Contains(string(out), "image: ghcr.io/plinth-dev/plinth:") || !strings.Contains(string(out), "app.kubernetes.io/part-of: plinth") {
		t.Errorf("rendered base lost its image or labels:\n%s", out)
	}
}

// TestBrokenManifestsAreCaught breaks a copy of deploy/ one way at a time
// and expects the check to name the drift.
func TestBrokenManifestsAreCaught(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	f := loadFacts(t, root)
	cases := []struct {
		name, file, old, new, want string
	}{
		{"readiness path", "k8s/deployment.yaml", "path: /readyz", "path: /ready", "/ready is not a route"},
		{"unknown setting", "k8s/configmap.yaml", "\ndata:\n", "\ndata:\n  PLINTH_NOT_A_SETTING: \"1\"\n", "PLINTH_NOT_A_SETTING is not a setting"},
		{"secret in configmap", "k8s/configmap.yaml", "\ndata:\n", "\ndata:\n  PLINTH_ADMIN_TOKEN: hunter2hunter2\n", "PLINTH_ADMIN_TOKEN is a secret"},
		{"service port", "k8s/service.yaml", "targetPort: http", "targetPort: 9090", "targetPort \"9090\""},
		{"container port", "k8s/deployment.yaml", "containerPort: 8080", "containerPort: 8081", "does not match the PLINTH_LISTEN port 8080"},
		{"latest image", "k8s/deployment.yaml", "plinth:0.1.0", "plinth:latest", `"latest" tag`},
		{"kustomize latest", "k8s/kustomization.yaml", `newTag: "0.1.0"`, `newTag: latest`, `"latest" tag`},
		{"short grace", "k8s/deployment.yaml", "terminationGracePeriodSeconds: 40", "terminationGracePeriodSeconds: 28", "terminationGracePeriodSeconds must exceed"},
		{"root pod", "k8s/deployment.yaml", "runAsUser: 65532", "runAsUser: 0", "may run as root"},
		{"writable root", "k8s/deployment.yaml", "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false", "readOnlyRootFilesystem"},
		{"missing database url", "k8s/deployment.yaml", "            - name: PLINTH_DATABASE_URL\n              valueFrom:\n                secretKeyRef:\n                  name: plinth\n                  key: database-url\n", "", "PLINTH_DATABASE_URL is not provided"},
		{"gomemlimit", "k8s/deployment.yaml", "value: 460MiB", "value: 600MiB", "GOMEMLIMIT"},
		{"unlisted resource", "k8s/kustomization.yaml", "  - pdb.yaml\n", "", "pdb.yaml is not listed"},
		{"hpa budget", "k8s/hpa.yaml", "maxReplicas: 6", "maxReplicas: 12", "more than max_connections"},
		{"shipped secret", "k8s/configmap.yaml", "apiVersion: v1\nkind: ConfigMap", "apiVersion: v1\nkind: Secret", "Secret plinth-config is in the repository"},
		{"dockerfile root", "Dockerfile", "USER 65532:65532", "USER root", "runs as root"},
		{"old go", "Dockerfile", "golang:1.26.8-bookworm", "golang:1.21-bookworm", "older than go.mod"},
		{"unpinned base", "Dockerfile", "static-debian12:nonroot", "static-debian12", "not pinned"},
		{"healthcheck subcommand", "Dockerfile", `"/usr/local/bin/plinth", "healthcheck"`, `"/usr/local/bin/plinth", "health"`, "HEALTHCHECK"},
		{"expose", "Dockerfile", "EXPOSE 8080", "EXPOSE 80", "EXPOSE \"80\""},
		{"cgo", "Dockerfile", "CGO_ENABLED=0", "CGO_ENABLED=1", "CGO_ENABLED=0"},
		{"compose unpinned", "compose.yaml", "nginx:1.28.0-alpine", "nginx", "not pinned"},
		{"lb port", "compose/nginx.conf", "plinth-2:8080", "plinth-2:9000", "plinth-2:9000 does not match"},
		{"lb instances", "compose/nginx.conf", "        server plinth-2:8080 resolve max_fails=3 fail_timeout=10s;\n", "", "are not the Plinth services"},
		{"lb balancing", "compose/nginx.conf", "zone plinth 64k;", "zone plinth 64k;\n        ip_hash;", "want round-robin"},
		{"compose budget", "compose.yaml", `PLINTH_TOTAL_CONNS_MAX: "64"`, `PLINTH_TOTAL_CONNS_MAX: "120"`, "more than max_connections"},
		{"compose literal secret", "compose.yaml", "PLINTH_SECRET_KEY: ${PLINTH_SECRET_KEY:?set PLINTH_SECRET_KEY (16+ characters) in deploy/.env}", "PLINTH_SECRET_KEY: hunter2hunter2hunter2", "PLINTH_SECRET_KEY has a literal secret"},
		{"compose grace", "compose.yaml", "stop_grace_period: 35s", "stop_grace_period: 10s", "stop_grace_period"},
		{"compose undeclared variable", "compose.yaml", "${REDIS_PASSWORD:?set REDIS_PASSWORD in deploy/.env}@redis", "${REDIS_PASS:?set it}@redis", "${REDIS_PASS} has no default"},
		{"env example secret", ".env.example", "\nPLINTH_SECRET_KEY=\n", "\nPLINTH_SECRET_KEY=0123456789abcdef0123\n", "PLINTH_SECRET_KEY has a literal secret value"},
		{"systemd grace", "systemd/plinth.service", "TimeoutStopSec=35s", "TimeoutStopSec=10s", "TimeoutStopSec"},
		{"systemd root", "systemd/plinth.service", "DynamicUser=yes\nUser=plinth\n", "User=root\n", "runs as root"},
		{"systemd hardening", "systemd/plinth.service", "NoNewPrivileges=yes", "NoNewPrivileges=no", "NoNewPrivileges=yes"},
		{"systemd env name", "systemd/plinth.env.example", "PLINTH_TRUSTED_PROXIES=", "PLINTH_TRUSTED_PROXY=", "PLINTH_TRUSTED_PROXY is not a setting"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := copyDir(t, filepath.Join(root, "deploy"))
			path := filepath.Join(dir, tc.file)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(data), tc.old) {
				t.Fatalf("%s no longer contains %q: update this case", tc.file, tc.old)
			}
			if err := os.WriteFile(path, []byte(strings.Replace(string(data), tc.old, tc.new, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			problems := checkDeploy(t, f, dir)
			for _, p := range problems {
				if strings.Contains(p, tc.want) {
					return
				}
			}
			t.Errorf("breaking %s was not reported as %q; problems: %q", tc.file, tc.want, problems)
		})
	}
}

func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}
