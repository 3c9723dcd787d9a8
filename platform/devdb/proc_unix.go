//go:build unix

package devdb

import (
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// serverAccount returns nil when the current user may run the servers itself.
// Postgres refuses to run as root, so root hands the cluster to the `postgres`
// system user (or `nobody` where there is none).
func serverAccount() (*account, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	var lastErr error
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			lastErr = err
			continue
		}
		uid, err := strconv.Atoi(u.Uid)
		if err != nil {
			return nil, fmt.Errorf("uid of %s: %w", name, err)
		}
		gid, err := strconv.Atoi(u.Gid)
		if err != nil {
			return nil, fmt.Errorf("gid of %s: %w", name, err)
		}
		return &account{name: name, uid: uid, gid: gid}, nil
	}
	return nil, fmt.Errorf("running as root and no unprivileged user (postgres, nobody) to run Postgres as: %w", lastErr)
}

// sysProcAttr puts the child in its own process group (so the terminal's
// Ctrl-C reaches only the caller, which then stops the child gracefully),
// drops to acct when set, and asks for parentDeath when the parent dies.
func sysProcAttr(acct *account, parentDeath syscall.Signal) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: true}
	if acct != nil {
		a.Credential = &syscall.Credential{Uid: uint32(acct.uid), Gid: uint32(acct.gid)}
	}
	setParentDeathSignal(a, parentDeath)
	return a
}

// giveTo makes dir and everything below it owned by acct.
func giveTo(acct *account, dir string) error {
	if acct == nil {
		return nil
	}
	return filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, acct.uid, acct.gid)
	})
}

// ownedBy reports whether path belongs to acct.
func ownedBy(acct *account, path string) (bool, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return false, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return true, nil
	}
	return int(st.Uid) == acct.uid, nil
}

// makeTraversable adds the search bit for others to every ancestor of dir that
// acct could not pass through (e.g. /root is 0700), so the server can reach
// its data directory; changes are logged because they loosen permissions.
func makeTraversable(acct *account, dir string, logf logger) error {
	if acct == nil {
		return nil
	}
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return err
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		mode := fi.Mode().Perm()
		passable := !ok || mode&0o001 != 0 ||
			(int(st.Uid) == acct.uid && mode&0o100 != 0) ||
			(int(st.Gid) == acct.gid && mode&0o010 != 0)
		if !passable {
			if err := os.Chmod(d, fi.Mode()|0o001); err != nil {
				return fmt.Errorf("make %s traversable for %s: %w", d, acct.name, err)
			}
			logf.printf("devdb: added o+x to %s so user %s can reach %s", d, acct.name, dir)
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}
