/* SPDX-License-Identifier: MIT */
/* nctop --check. Each thing is probed the way a real run would use it (the eBPF programs are
 * loaded and attached by the collector's own code, NVML is loaded by the GPU probe), so that
 * "ok" means the run would work, not that a file exists. A line is "needed" when the options
 * given ask for it; only a needed thing that is unavailable fails the check. */
#include "src/check.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#ifdef NCTOP_HAVE_BPF
#include "collectors/bpf/bpf.h"
#endif
#include "hw/gpu.h"
#include "src/base/util.h"
#include "src/base/xalloc.h"
#include "src/config.h"
#include "src/http.h"
#include "src/libnctop/segment.h"
#include "src/model/store.h"
#include "src/model/store_gpu.h"

#define CHECK_BTF_PATH "/sys/kernel/btf/vmlinux"
#define CHECK_CAP_SYS_ADMIN 21
#define CHECK_CAP_PERFMON 38
#define CHECK_CAP_BPF 39
#define CHECK_SHM_LOW_BYTES (64ULL << 20) /* a few workloads' segments with their rings */

static const char *const check_names[] = {"ok", "degraded", "unavailable"};

struct check {
    FILE *out;
    char failed[256]; /* the needed things that are unavailable, ", "-separated */
};

static void check_line(struct check *c, const char *what, enum check_status st, bool needed,
                       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* One line: the thing, its status and what to know or do. */
static void check_line(struct check *c, const char *what, enum check_status st, bool needed,
                       const char *fmt, ...)
{
    char text[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    fprintf(c->out, "%-15s %-12s %s\n", what, check_names[st], text);
    if (st == CHECK_UNAVAILABLE && needed) {
        size_t n = strlen(c->failed);

        snprintf(c->failed + n, sizeof(c->failed) - n, "%s%s", n > 0 ? ", " : "", what);
    }
}

/* Shared memory: the workloads create their segments in /dev/shm, nctop maps them. */
static void check_shm(struct check *c)
{
    struct stat sb;
    struct statvfs vfs;
    unsigned mode;
    uint64_t avail;
    char free_s[32];

    if (stat(NCTOP_SEG_DIR, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        check_line(c, "shared memory", CHECK_UNAVAILABLE, true,
                   "%s is missing: workloads cannot publish; mount it (mount -t tmpfs -o "
                   "mode=1777 tmpfs %s)",
                   NCTOP_SEG_DIR, NCTOP_SEG_DIR);
        return;
    }
    mode = (unsigned)(sb.st_mode & 07777);
    if (access(NCTOP_SEG_DIR, W_OK | X_OK) != 0) {
        check_line(c, "shared memory", CHECK_UNAVAILABLE, true,
                   "%s (mode %04o) is not writable by uid %u: this user's workloads cannot "
                   "publish (chmod 1777 %s)",
                   NCTOP_SEG_DIR, mode, (unsigned)getuid(), NCTOP_SEG_DIR);
        return;
    }
    if (statvfs(NCTOP_SEG_DIR, &vfs) != 0) {
        check_line(c, "shared memory", CHECK_DEGRADED, true, "%s: free space unknown: %s",
                   NCTOP_SEG_DIR, strerror(errno));
        return;
    }
    avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
    util_format_bytes((int64_t)(avail > INT64_MAX ? INT64_MAX : avail), false, free_s,
                      sizeof(free_s));
    if (avail < CHECK_SHM_LOW_BYTES) {
        check_line(c, "shared memory", CHECK_DEGRADED, true,
                   "%s: only %s free: a workload whose segment does not fit publishes nothing "
                   "(free space there, or remount it larger)",
                   NCTOP_SEG_DIR, free_s);
    } else if (mode != 01777) {
        check_line(c, "shared memory", CHECK_DEGRADED, true,
                   "%s: mode %04o, not 1777: other users' workloads may fail to publish, or "
                   "remove each other's segments (chmod 1777 %s); %s free",
                   NCTOP_SEG_DIR, mode, NCTOP_SEG_DIR, free_s);
    } else {
        check_line(c, "shared memory", CHECK_OK, true, "%s: writable, mode 1777, %s free",
                   NCTOP_SEG_DIR, free_s);
    }
}

#ifdef NCTOP_HAVE_BPF
/* The effective capabilities of this process (from /proc/self/status), 0 when unknown. */
static uint64_t check_cap_eff(void)
{
    char buf[4096], *p;

    if (util_read_file("/proc/self/status", buf, sizeof(buf)) < 0 ||
        (p = strstr(buf, "\nCapEff:")) == NULL) {
        return 0;
    }
    return strtoull(p + 8, NULL, 16);
}
#endif

/* eBPF: the kernel's BTF, the privileges, and the collector's programs loaded for real. */
static void check_bpf(struct check *c, const struct config *cfg)
{
    bool need = cfg->bpf;
#ifndef NCTOP_HAVE_BPF
    check_line(c, "eBPF", CHECK_UNAVAILABLE, need,
               "this nctop was built without BPF support: --bpf, --uprobe and --usdt do not "
               "work (rebuild it where clang, bpftool, libbpf-dev and a kernel with BTF are "
               "present)");
#else
    uint64_t caps = check_cap_eff(), t0;
    bool btf = access(CHECK_BTF_PATH, R_OK) == 0;
    bool bpf_cap = (caps >> CHECK_CAP_BPF) & 1, perfmon = (caps >> CHECK_CAP_PERFMON) & 1;
    bool priv = geteuid() == 0 || (bpf_cap && perfmon);
    struct store_config scfg;
    struct store *st;
    struct bpf_source *bs;
    char *err = NULL;

    if (btf) {
        check_line(c, "BTF", CHECK_OK, need, "%s", CHECK_BTF_PATH);
    } else {
        check_line(c, "BTF", CHECK_UNAVAILABLE, need,
                   "%s is missing: --bpf needs a kernel built with CONFIG_DEBUG_INFO_BTF=y",
                   CHECK_BTF_PATH);
    }
    if (geteuid() == 0) {
        check_line(c, "capabilities", CHECK_OK, need, "root%s",
                   (caps >> CHECK_CAP_SYS_ADMIN) & 1 ? "" : " (without CAP_SYS_ADMIN)");
    } else if (priv) {
        check_line(c, "capabilities", CHECK_OK, need, "CAP_BPF and CAP_PERFMON");
    } else {
        check_line(c, "capabilities", CHECK_UNAVAILABLE, need,
                   "uid %u has %s: --bpf needs root, or CAP_BPF and CAP_PERFMON (setcap "
                   "cap_bpf,cap_perfmon+ep nctop)",
                   (unsigned)geteuid(),
                   bpf_cap   ? "CAP_BPF but not CAP_PERFMON"
                   : perfmon ? "CAP_PERFMON but not CAP_BPF"
                             : "neither CAP_BPF nor CAP_PERFMON");
    }
    if (!btf || !priv) {
        check_line(c, "eBPF programs", CHECK_UNAVAILABLE, need, "not tried (%s)",
                   !btf ? "no BTF" : "not permitted");
        return;
    }
    memset(&scfg, 0, sizeof(scfg));
    st = store_new(&scfg);
    t0 = util_mono_ns();
    bs = bpf_source_new(st, NULL, &err);
    if (bs != NULL) {
        check_line(c, "eBPF programs", CHECK_OK, need,
                   "loaded and attached to the scheduler and syscall tracepoints in %.0f ms",
                   (double)(util_mono_ns() - t0) / 1e6);
        bpf_source_free(bs);
    } else {
        check_line(c, "eBPF programs", CHECK_UNAVAILABLE, need, "%s", err);
        free(err);
    }
    store_free(st);
#endif
}

/* NVML: the GPU probe's own first sample. No GPU is a state, never needed by an option. */
static void check_gpu(struct check *c)
{
    const char *lib = secure_getenv("NCTOP_NVML_LIB");
    struct store_config scfg;
    struct store *st;
    struct gpu *g = gpu_new();
    const char *absent, *error;
    char devs[512] = "";
    size_t n;

    memset(&scfg, 0, sizeof(scfg));
    st = store_new(&scfg);
    gpu_sample(g);
    gpu_publish(g, st);
    absent = gpu_absent_reason(g);
    error = store_gpu_error(st);
    n = store_gpu_count(st);
    if (lib == NULL || lib[0] == '\0') {
        lib = "libnvidia-ml.so.1";
    }
    for (size_t i = 0; i < n && i < 4; i++) {
        const struct store_gpu_dev *d = store_gpu_at(st, i);
        size_t len = strlen(devs);

        snprintf(devs + len, sizeof(devs) - len, "%s%u %s", i > 0 ? ", " : "", d->index,
                 d->name[0] != '\0' ? d->name : "(no name)");
    }
    if (n > 0) {
        check_line(c, "NVML", error != NULL ? CHECK_DEGRADED : CHECK_OK, false,
                   "%s: %zu GPU%s (%s%s)%s%s", lib, n, n == 1 ? "" : "s", devs,
                   n > 4 ? ", ..." : "", error != NULL ? "; " : "", error != NULL ? error : "");
    } else if (error != NULL) {
        check_line(c, "NVML", CHECK_UNAVAILABLE, false, "%s (no GPU figures are shown)", error);
    } else {
        check_line(c, "NVML", CHECK_UNAVAILABLE, false,
                   "no GPU: %s (GPU figures are not shown; install the NVIDIA driver, or name "
                   "the library in NCTOP_NVML_LIB)",
                   absent != NULL ? absent : lib);
    }
    gpu_free(g);
    store_free(st);
}

/* Where terminfo keeps the entry of term, as ncurses looks for it: $TERMINFO, ~/.terminfo,
 * $TERMINFO_DIRS, then the system's directories; DIR/c/NAME or DIR/hh/NAME (hex). */
static bool check_terminfo(const char *term, char *path, size_t len)
{
    const char *env = getenv("TERMINFO"), *home = getenv("HOME"), *dirs = getenv("TERMINFO_DIRS");
    const char *sys = "/etc/terminfo:/lib/terminfo:/usr/share/terminfo:/usr/lib/terminfo";
    char *list, *save = NULL;
    bool found = false;

    if (strchr(term, '/') != NULL || term[0] == '.') {
        return false;
    }
    list = xasprintf("%s:%s%s:%s:%s", env != NULL ? env : "", home != NULL ? home : "",
                     home != NULL ? "/.terminfo" : "", dirs != NULL ? dirs : "", sys);
    for (char *d = strtok_r(list, ":", &save); d != NULL && !found;
         d = strtok_r(NULL, ":", &save)) {
        snprintf(path, len, "%s/%c/%s", d, term[0], term);
        found = access(path, R_OK) == 0;
        if (!found) {
            snprintf(path, len, "%s/%02x/%s", d, (unsigned char)term[0], term);
            found = access(path, R_OK) == 0;
        }
    }
    free(list);
    return found;
}

/* The display: a terminal type curses knows, and a terminal to draw on. */
static void check_terminal(struct check *c, const struct config *cfg)
{
    bool need = !cfg->once && !cfg->headless;
    const char *term = getenv("TERM");
    char path[4096], esc[128];

    if (term == NULL || term[0] == '\0') {
        check_line(c, "terminal", CHECK_UNAVAILABLE, need,
                   "TERM is unset: the display cannot start (export TERM=xterm-256color, or use "
                   "--once or --headless)");
        return;
    }
    util_escape(term, esc, sizeof(esc));
    if (strcmp(term, "dumb") == 0) {
        check_line(c, "terminal", CHECK_UNAVAILABLE, need,
                   "TERM=dumb cannot place the cursor: the display needs a real terminal type "
                   "(TERM=xterm-256color), or use --once or --headless");
    } else if (!check_terminfo(term, path, sizeof(path))) {
        check_line(c, "terminal", CHECK_UNAVAILABLE, need,
                   "TERM=%s has no terminfo entry: install its entry (ncurses-term) or set "
                   "TERM=xterm-256color",
                   esc);
    } else if (!isatty(STDIN_FILENO) && !isatty(STDOUT_FILENO)) {
        check_line(c, "terminal", CHECK_DEGRADED, false,
                   "TERM=%s (%s), but neither standard input nor output is a terminal here: the "
                   "display needs one",
                   esc, path);
    } else {
        check_line(c, "terminal", CHECK_OK, need, "TERM=%s (%s)%s", esc, path,
                   getenv("NO_COLOR") != NULL ? ", NO_COLOR: monochrome" : "");
    }
}

/* /proc/sys/kernel/yama/ptrace_scope, or -1 without Yama. */
static int check_ptrace_scope(void)
{
    char buf[16];

    if (util_read_file("/proc/sys/kernel/yama/ptrace_scope", buf, sizeof(buf)) <= 0) {
        return -1;
    }
    return atoi(buf);
}

/* Who nctop may watch: root or file capabilities, the ptrace scope, and each -p process. */
static void check_permissions(struct check *c, const struct config *cfg)
{
    int scope = check_ptrace_scope();
    bool root = getuid() == 0;
    char scope_s[48];

    if (scope < 0) {
        snprintf(scope_s, sizeof(scope_s), "no Yama ptrace scope");
    } else {
        snprintf(scope_s, sizeof(scope_s), "ptrace_scope %d", scope);
    }
    if (util_secure_exec()) {
        check_line(c, "permissions", CHECK_OK, false,
                   "privileged binary (file capabilities or set-user-ID) run by uid %u: watches "
                   "only what uid %u could trace; NCTOP_NVML_LIB, NCTOP_TINYLM, NC_PROFILE_JSONL "
                   "and TMPDIR are ignored (%s)",
                   (unsigned)getuid(), (unsigned)getuid(), scope_s);
    } else if (root) {
        check_line(c, "permissions", CHECK_OK, false, "root: every user's workloads (%s)", scope_s);
    } else if (scope >= 2) {
        check_line(c, "permissions", CHECK_DEGRADED, false,
                   "uid %u: this user's workloads only, and %s keeps --bpf -p from them (run "
                   "as root)",
                   (unsigned)getuid(), scope_s);
    } else {
        check_line(c, "permissions", CHECK_OK, false,
                   "uid %u: this user's workloads; another user's need root (%s)",
                   (unsigned)getuid(), scope_s);
    }
    for (size_t i = 0; i < cfg->npids; i++) {
        int32_t pid = cfg->pids[i];
        char what[32], seg[64];
        int fd;

        snprintf(what, sizeof(what), "-p %d", (int)pid);
        snprintf(seg, sizeof(seg), "%s/%s%d", NCTOP_SEG_DIR, NCTOP_SEG_FILE_PREFIX, (int)pid);
        if (!util_pid_alive(pid)) {
            check_line(c, what, CHECK_UNAVAILABLE, true, "no such process");
            continue;
        }
        if (cfg->bpf && !util_may_trace(pid)) {
            check_line(c, what, CHECK_UNAVAILABLE, true,
                       "--bpf may not watch it: it runs as another user or is not traceable "
                       "(run nctop as its user, or as root)");
            continue;
        }
        fd = open(seg, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd >= 0) {
            close(fd);
            check_line(c, what, CHECK_OK, true, "%s is readable", seg);
        } else if (errno == ENOENT) {
            check_line(c, what, cfg->bpf ? CHECK_OK : CHECK_DEGRADED, true,
                       "no segment %s: it links no libnctop (or has not published yet)%s", seg,
                       cfg->bpf ? "; --bpf watches it anyway" : ": watch it with --bpf");
        } else {
            check_line(c, what, cfg->bpf ? CHECK_DEGRADED : CHECK_UNAVAILABLE, true,
                       "%s: %s: another user's workload (run nctop as that user, or as root)", seg,
                       strerror(errno));
        }
    }
}

/* --prometheus: the address can be bound now (the listener binds it the same way). */
static void check_prometheus(struct check *c, const struct config *cfg)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd, one = 1;

    if (cfg->prometheus == NULL || http_parse_listen(cfg->prometheus, &ss) != 0) {
        return;
    }
    len = ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    }
    if (fd < 0 || bind(fd, (const struct sockaddr *)&ss, len) != 0) {
        check_line(c, "prometheus", CHECK_UNAVAILABLE, true,
                   "cannot listen on %s: %s (choose another port)", cfg->prometheus,
                   strerror(errno));
    } else {
        check_line(c, "prometheus", CHECK_OK, true, "%s can be listened on", cfg->prometheus);
    }
    if (fd >= 0) {
        close(fd);
    }
}

/* The config file, as main read it with the code of a real start. */
static void check_config(struct check *c, const struct check_rc *rc)
{
    char esc[512];

    if (rc->path == NULL) {
        check_line(c, "config", CHECK_OK, true,
                   "none (neither XDG_CONFIG_HOME nor HOME is set): the defaults");
        return;
    }
    util_escape(rc->message != NULL ? rc->message : "", esc, sizeof(esc));
    if (rc->status == CHECK_UNAVAILABLE) {
        check_line(c, "config", CHECK_UNAVAILABLE, true, "%s: nctop refuses to start: fix the file",
                   esc);
    } else if (rc->status == CHECK_DEGRADED) {
        check_line(c, "config", CHECK_DEGRADED, true, "%s", esc);
    } else if (access(rc->path, F_OK) != 0) {
        check_line(c, "config", CHECK_OK, true, "%s: no file: the defaults", rc->path);
    } else {
        check_line(c, "config", CHECK_OK, true, "%s: read", rc->path);
    }
}

int check_run(FILE *out, const struct config *cfg, const struct check_rc *rc)
{
    struct check c = {.out = out, .failed = ""};

    check_shm(&c);
    check_bpf(&c, cfg);
    check_gpu(&c);
    check_terminal(&c, cfg);
    check_permissions(&c, cfg);
    check_prometheus(&c, cfg);
    check_config(&c, rc);
    if (c.failed[0] != '\0') {
        fprintf(out, "not ready: unavailable but needed by the options given: %s\n", c.failed);
        return 1;
    }
    fprintf(out, "ready: everything the options given need is there\n");
    return 0;
}
