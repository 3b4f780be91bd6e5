/* SPDX-License-Identifier: MIT */
/* Keep a harness's segments and sockets to itself: its own /dev/shm (a private tmpfs in a
 * mount namespace) and its own loopback (a network namespace), so that other nctop runs on
 * the machine never see the hostile segments, nor a port taken. Without the privilege for
 * namespaces the harness runs in the shared ones. */
#ifndef NCTOP_TESTS_FUZZ_ISOLATE_H
#define NCTOP_TESTS_FUZZ_ISOLATE_H

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

/* Write s to path (the id maps of a new user namespace). */
static inline bool fuzz_isolate_write(const char *path, const char *s)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    bool ok;

    if (fd < 0) {
        return false;
    }
    ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
    close(fd);
    return ok;
}

/* New namespaces of the kinds in flags; as an unprivileged user, inside a user namespace
 * that maps our own ids to themselves (so file owners and geteuid() stay what they were). */
static inline bool fuzz_isolate_unshare(int flags)
{
    char map[64];
    uid_t uid = geteuid();
    gid_t gid = getegid();

    if (unshare(flags) == 0) {
        return true;
    }
    if (unshare(CLONE_NEWUSER | flags) != 0) {
        return false;
    }
    snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)uid, (unsigned)uid);
    if (!fuzz_isolate_write("/proc/self/uid_map", map)) {
        return false;
    }
    fuzz_isolate_write("/proc/self/setgroups", "deny\n");
    snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)gid, (unsigned)gid);
    return fuzz_isolate_write("/proc/self/gid_map", map);
}

/* A private, empty /dev/shm. Returns false (and changes nothing visible) when not allowed. */
static inline bool fuzz_isolate_shm(void)
{
    if (!fuzz_isolate_unshare(CLONE_NEWNS)) {
        return false;
    }
    if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
        mount("nctop-fuzz", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=512m") != 0) {
        return false;
    }
    return true;
}

/* A private network with its loopback up. */
static inline bool fuzz_isolate_net(void)
{
    struct ifreq ifr;
    bool ok;
    int s;

    if (!fuzz_isolate_unshare(CLONE_NEWNET)) {
        return false;
    }
    s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) {
        return false;
    }
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
    ok = ioctl(s, SIOCGIFFLAGS, &ifr) == 0;
    ifr.ifr_flags |= IFF_UP;
    ok = ok && ioctl(s, SIOCSIFFLAGS, &ifr) == 0;
    close(s);
    return ok;
}

#endif /* NCTOP_TESTS_FUZZ_ISOLATE_H */
