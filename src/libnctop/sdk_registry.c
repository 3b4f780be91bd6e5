/* SPDX-License-Identifier: MIT */
/* libnctop registration: interned names, gauges, counters, weights, the process label and
 * thread names. Everything here runs under the registration lock and may allocate. */
#include "sdk_internal.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nctop.h"

/*
 * A process-local open-addressing hash table of 32-bit keys (never 0) to 32-bit values. The
 * name table keys are string ids and the hash is that of the string's bytes, so lookups by
 * string compare against the arena; the other tables key by string id. The tables survive
 * fork as they are (the child's segment keeps every id), so nothing is rebuilt there.
 */
struct registry_slot {
    uint32_t key; /* 0: empty */
    uint32_t val;
    uint32_t hash;
};

struct registry_map {
    struct registry_slot *slots;
    uint32_t cap; /* a power of two, or 0 before the first insert */
    uint32_t len;
};

static struct registry_map registry_names;    /* string -> string id */
static struct registry_map registry_gauges;   /* name id -> gauge handle */
static struct registry_map registry_counters; /* name id -> counter handle */
static struct registry_map registry_weights;  /* path id -> weight index + 1 */
static struct registry_map registry_values;   /* name id -> value handle */
static struct registry_map registry_attrs;    /* key id -> attribute index + 1 */
static struct registry_map registry_matrices; /* name id -> matrix handle */

static uint32_t registry_hash_bytes(const char *s, size_t len)
{
    uint32_t h = 2166136261U; /* FNV-1a: short names, no adversary, good enough */

    for (size_t i = 0; i < len; i++) {
        h = (h ^ (unsigned char)s[i]) * 16777619U;
    }
    return h;
}

static uint32_t registry_hash_id(uint32_t id)
{
    return id * 2654435761U;
}

/* Make room for one more entry, keeping the load at or under one half. */
static int registry_map_reserve(struct registry_map *m)
{
    struct registry_slot *slots;
    uint32_t cap;

    if ((m->len + 1) * 2 <= m->cap) {
        return 0;
    }
    cap = m->cap == 0 ? 64 : m->cap * 2;
    slots = calloc(cap, sizeof(*slots));
    if (slots == NULL) {
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < m->cap; i++) {
        uint32_t j = m->slots[i].hash & (cap - 1);

        if (m->slots[i].key == 0) {
            continue;
        }
        while (slots[j].key != 0) {
            j = (j + 1) & (cap - 1);
        }
        slots[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return 0;
}

/* Insert a key known to be absent; registry_map_reserve must have succeeded first. */
static void registry_map_put(struct registry_map *m, uint32_t hash, uint32_t key, uint32_t val)
{
    uint32_t j = hash & (m->cap - 1);

    while (m->slots[j].key != 0) {
        j = (j + 1) & (m->cap - 1);
    }
    m->slots[j].key = key;
    m->slots[j].val = val;
    m->slots[j].hash = hash;
    m->len++;
}

static uint32_t registry_map_get(const struct registry_map *m, uint32_t key)
{
    uint32_t hash = registry_hash_id(key);

    if (m->cap == 0) {
        return 0;
    }
    for (uint32_t j = hash & (m->cap - 1); m->slots[j].key != 0; j = (j + 1) & (m->cap - 1)) {
        if (m->slots[j].key == key) {
            return m->slots[j].val;
        }
    }
    return 0;
}

/*
 * Names are what a human reads in nctop and what the reader copies into JSON: 1 to
 * NCTOP_SEG_NAME_MAX bytes of well-formed UTF-8 (shortest encodings, no surrogates, nothing
 * above U+10FFFF) with no C0 or C1 control characters and no DEL.
 */
static bool registry_valid_utf8(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < len) {
        uint32_t c = p[i];
        size_t n;

        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f) {
                return false;
            }
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            c &= 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            c &= 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            c &= 0x07;
        } else {
            return false;
        }
        if (len - i <= n) {
            return false;
        }
        for (size_t k = 1; k <= n; k++) {
            if ((p[i + k] & 0xc0) != 0x80) {
                return false;
            }
            c = (c << 6) | (p[i + k] & 0x3f);
        }
        /* Overlong forms, surrogates, out of range, C1 controls. */
        if ((n == 2 && c < 0x800) || (n == 3 && c < 0x10000) || c > 0x10ffff ||
            (c >= 0xd800 && c <= 0xdfff) || (c >= 0x80 && c <= 0x9f)) {
            return false;
        }
        i += n + 1;
    }
    return true;
}

static bool registry_name_valid(const char *name)
{
    size_t len;

    if (name == NULL) {
        return false;
    }
    len = strnlen(name, NCTOP_SEG_NAME_MAX + 1);
    return len > 0 && len <= NCTOP_SEG_NAME_MAX && registry_valid_utf8(name, len);
}

static const char *registry_string_at(struct nctop_seg_header *hdr, uint32_t id, uint32_t *len)
{
    const uint32_t *offsets = (const uint32_t *)((const char *)hdr + hdr->stroff_off);
    const char *entry = (const char *)hdr + hdr->strings_off + offsets[id];

    memcpy(len, entry, sizeof(*len));
    return entry + sizeof(uint32_t);
}

/* Intern a name: the existing id, a new id, or 0 (invalid, table full, out of memory). */
static uint32_t registry_name_locked(struct nctop_seg_header *hdr, const char *name)
{
    uint32_t *offsets = (uint32_t *)((char *)hdr + hdr->stroff_off);
    char *arena = (char *)hdr + hdr->strings_off;
    struct registry_map *m = &registry_names;
    uint32_t id, used, need, hash, len32;
    size_t len;

    if (!registry_name_valid(name)) {
        return 0;
    }
    len = strlen(name);
    hash = registry_hash_bytes(name, len);
    for (uint32_t j = m->cap == 0 ? 0 : hash & (m->cap - 1); m->cap != 0 && m->slots[j].key != 0;
         j = (j + 1) & (m->cap - 1)) {
        const char *s;

        if (m->slots[j].hash != hash) {
            continue;
        }
        s = registry_string_at(hdr, m->slots[j].key, &len32);
        if (len32 == len && memcmp(s, name, len) == 0) {
            return m->slots[j].key;
        }
    }

    id = atomic_load_explicit(&hdr->strings_count, memory_order_relaxed);
    used = atomic_load_explicit(&hdr->strings_used, memory_order_relaxed);
    need = (uint32_t)((sizeof(uint32_t) + len + 1 + 3) & ~(size_t)3);
    if (id >= hdr->strings_max || need > hdr->strings_bytes - used) {
        atomic_fetch_add_explicit(&hdr->registration_full, 1, memory_order_relaxed);
        return 0;
    }
    if (registry_map_reserve(m) < 0) {
        return 0;
    }

    /* Entry bytes, then the offset, then the counts with release: a reader that loads
     * strings_count with acquire sees the whole entry. */
    len32 = (uint32_t)len;
    memcpy(arena + used, &len32, sizeof(len32));
    memcpy(arena + used + sizeof(len32), name, len);
    memset(arena + used + sizeof(len32) + len, 0, need - sizeof(len32) - len);
    offsets[id] = used;
    atomic_store_explicit(&hdr->strings_used, used + need, memory_order_release);
    atomic_store_explicit(&hdr->strings_count, id + 1, memory_order_release);
    registry_map_put(m, hash, id, id);
    return id;
}

uint32_t sdk_registry_counter_locked(struct nctop_seg_header *hdr, const char *name)
{
    struct nctop_seg_counter *tab;
    uint32_t id, handle, n;

    id = registry_name_locked(hdr, name);
    if (id == 0) {
        return 0;
    }
    handle = registry_map_get(&registry_counters, id);
    if (handle != 0) {
        return handle;
    }
    n = atomic_load_explicit(&hdr->counters_count, memory_order_relaxed);
    if (n >= hdr->counters_max) {
        atomic_fetch_add_explicit(&hdr->registration_full, 1, memory_order_relaxed);
        return 0;
    }
    if (registry_map_reserve(&registry_counters) < 0) {
        return 0;
    }
    tab = (struct nctop_seg_counter *)((char *)hdr + hdr->counters_off);
    tab[n].name_id = id;
    tab[n].flags = 0;
    atomic_store_explicit(&tab[n].value, 0, memory_order_relaxed);
    atomic_store_explicit(&hdr->counters_count, n + 1, memory_order_release);
    registry_map_put(&registry_counters, registry_hash_id(id), id, n + 1);
    return n + 1;
}

/* Copy a label into the header, truncated to the last whole UTF-8 character that fits. The
 * sequence number is odd while the bytes change, so a reader retries a torn copy. */
int sdk_registry_label_locked(struct nctop_seg_header *hdr, const char *label)
{
    size_t len;
    uint32_t seq;

    if (label == NULL) {
        return -EINVAL;
    }
    len = strnlen(label, NCTOP_SEG_LABEL_MAX);
    if (len > NCTOP_SEG_LABEL_MAX - 1) {
        len = NCTOP_SEG_LABEL_MAX - 1;
        while (len > 0 && ((unsigned char)label[len] & 0xc0) == 0x80) {
            len--;
        }
    }
    if (len == 0 || !registry_valid_utf8(label, len)) {
        return -EINVAL;
    }
    seq = atomic_load_explicit(&hdr->label_seq, memory_order_relaxed);
    atomic_store_explicit(&hdr->label_seq, seq + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    memset(hdr->label, 0, sizeof(hdr->label));
    memcpy(hdr->label, label, len);
    atomic_store_explicit(&hdr->label_seq, seq + 2, memory_order_release);
    return 0;
}

NCTOP_API uint32_t nctop_name(const char *name)
{
    struct nctop_seg_header *hdr = sdk_lock_ready();
    uint32_t id;

    if (hdr == NULL) {
        return 0;
    }
    id = registry_name_locked(hdr, name);
    sdk_unlock();
    return id;
}

NCTOP_API int nctop_set_label(const char *label)
{
    struct nctop_seg_header *hdr = sdk_lock_ready();
    int rc;

    if (hdr == NULL) {
        return -ECANCELED;
    }
    rc = sdk_registry_label_locked(hdr, label);
    sdk_unlock();
    return rc;
}

NCTOP_API int nctop_thread_name(const char *name)
{
    struct nctop_seg_header *hdr;
    size_t len;

    if (name == NULL) {
        return -EINVAL;
    }
    len = strnlen(name, NCTOP_SEG_THREAD_NAME_MAX);
    if (len == 0) {
        return -EINVAL;
    }
    hdr = sdk_lock_ready();
    if (hdr == NULL) {
        return -ECANCELED;
    }
    sdk_unlock();
    sdk_events_set_thread_name(name);
    return 0;
}

NCTOP_API uint32_t nctop_gauge(const char *name, enum nctop_mem_kind kind, unsigned flags)
{
    struct nctop_seg_header *hdr = sdk_lock_ready();
    struct nctop_seg_gauge *tab;
    uint32_t id, handle = 0, n;

    if (hdr == NULL) {
        return 0;
    }
    if (kind < NCTOP_MEM_POOL || kind > NCTOP_MEM_OTHER) {
        goto out;
    }
    id = registry_name_locked(hdr, name);
    if (id == 0) {
        goto out;
    }
    handle = registry_map_get(&registry_gauges, id);
    if (handle != 0) {
        goto out;
    }
    n = atomic_load_explicit(&hdr->gauges_count, memory_order_relaxed);
    if (n >= hdr->gauges_max) {
        atomic_fetch_add_explicit(&hdr->registration_full, 1, memory_order_relaxed);
        goto out;
    }
    if (registry_map_reserve(&registry_gauges) < 0) {
        goto out;
    }
    tab = (struct nctop_seg_gauge *)((char *)hdr + hdr->gauges_off);
    tab[n].name_id = id;
    tab[n].kind = (uint16_t)kind;
    tab[n].flags = (uint16_t)flags;
    atomic_store_explicit(&hdr->gauges_count, n + 1, memory_order_release);
    handle = n + 1;
    registry_map_put(&registry_gauges, registry_hash_id(id), id, handle);
out:
    sdk_unlock();
    return handle;
}

NCTOP_API uint32_t nctop_counter(const char *name)
{
    struct nctop_seg_header *hdr = sdk_lock_ready();
    uint32_t handle;

    if (hdr == NULL) {
        return 0;
    }
    handle = sdk_registry_counter_locked(hdr, name);
    sdk_unlock();
    return handle;
}

/* A name and its optional unit ("" or NULL: none) interned, under the lock. False when
 * either is refused. */
static bool registry_name_unit_locked(struct nctop_seg_header *hdr, const char *name,
                                      const char *unit, uint32_t *id, uint32_t *unit_id)
{
    bool has_unit = unit != NULL && unit[0] != '\0';

    *id = registry_name_locked(hdr, name);
    *unit_id = has_unit ? registry_name_locked(hdr, unit) : 0;
    return *id != 0 && (!has_unit || *unit_id != 0);
}

NCTOP_API uint32_t nctop_value(const char *name, const char *unit)
{
    struct nctop_seg_header *hdr = sdk_lock_ready();
    struct nctop_seg_value *tab;
    uint32_t id, unit_id = 0, handle = 0, n;

    if (hdr == NULL) {
        return 0;
    }
    if (!registry_name_unit_locked(hdr, name, unit, &id, &unit_id)) {
        goto out;
    }
    handle = registry_map_get(&registry_values, id);
    if (handle != 0) {
        goto out;
    }
    n = atomic_load_explicit(&hdr->values_count, memory_order_relaxed);
    if (n >= hdr->values_max) {
        atomic_fetch_add_explicit(&hdr->registration_full, 1, memory_order_relaxed);
        goto out;
    }
    if (registry_map_reserve(&registry_values) < 0) {
        goto out;
    }
    tab = (struct nctop_seg_value *)((char *)hdr + hdr->values_off);
    tab[n].name_id = id;
    tab[n].unit_id = unit_id;
    atomic_store_explicit(&tab[n].bits, NCTOP_SEG_VALUE_UNSET, memory_order_relaxed);
    atomic_store_explicit(&hdr->values_count, n + 1, memory_order_release);
    handle = n + 1;
    registry_map_put(&registry_values, registry_hash_id(id), id, handle);
out:
    sdk_unlock();
    return handle;
}

NCTOP_API uint32_t nctop_matrix(const char *name, const char *unit)
{
    struct nctop_seg_header *hdr = sdk_lock_ready();
    struct nctop_seg_matrix *tab;
    uint32_t id, unit_id = 0, handle = 0, n;

    if (hdr == NULL) {
        return 0;
    }
    if (!registry_name_unit_locked(hdr, name, unit, &id, &unit_id)) {
        goto out;
    }
    handle = registry_map_get(&registry_matrices, id);
    if (handle != 0) {
        goto out;
    }
    n = atomic_load_explicit(&hdr->matrices_count, memory_order_relaxed);
    if (n >= hdr->matrices_max) {
        atomic_fetch_add_explicit(&hdr->registration_full, 1, memory_order_relaxed);
        goto out;
    }
    if (registry_map_reserve(&registry_matrices) < 0) {
        goto out;
    }
    tab = (struct nctop_seg_matrix *)((char *)hdr + hdr->matrices_off);
    tab[n].name_id = id;
    tab[n].unit_id = unit_id;
    atomic_store_explicit(&hdr->matrices_count, n + 1, memory_order_release);
    handle = n + 1;
    registry_map_put(&registry_matrices, registry_hash_id(id), id, handle);
out:
    sdk_unlock();
    return handle;
}

NCTOP_API int nctop_set_attr(const char *key, const char *value)
{
    struct nctop_seg_header *hdr = sdk_lock_ready();
    struct nctop_seg_attr *tab;
    uint32_t key_id, value_id = 0, idx, n;
    int rc = 0;

    if (hdr == NULL) {
        return -ECANCELED;
    }
    tab = (struct nctop_seg_attr *)((char *)hdr + hdr->attrs_off);
    key_id = registry_name_locked(hdr, key);
    if (value != NULL && value[0] != '\0') {
        value_id = registry_name_locked(hdr, value);
    }
    if (key_id == 0 || (value != NULL && value[0] != '\0' && value_id == 0)) {
        rc = registry_name_valid(key) &&
                     (value == NULL || value[0] == '\0' || registry_name_valid(value))
                 ? -ENOSPC
                 : -EINVAL;
        goto out;
    }
    idx = registry_map_get(&registry_attrs, key_id);
    if (idx != 0) {
        atomic_store_explicit(&tab[idx - 1].value_id, value_id, memory_order_release);
        goto out;
    }
    if (value_id == 0) {
        goto out; /* unsetting something never set */
    }
    n = atomic_load_explicit(&hdr->attrs_count, memory_order_relaxed);
    if (n >= hdr->attrs_max) {
        atomic_fetch_add_explicit(&hdr->registration_full, 1, memory_order_relaxed);
        rc = -ENOSPC;
        goto out;
    }
    if (registry_map_reserve(&registry_attrs) < 0) {
        rc = -ENOMEM;
        goto out;
    }
    tab[n].key_id = key_id;
    atomic_store_explicit(&tab[n].value_id, value_id, memory_order_relaxed);
    atomic_store_explicit(&hdr->attrs_count, n + 1, memory_order_release);
    registry_map_put(&registry_attrs, registry_hash_id(key_id), key_id, n + 1);
out:
    sdk_unlock();
    return rc;
}

NCTOP_API int nctop_weight_set(const char *path, uint64_t bytes, unsigned flags)
{
    struct nctop_seg_header *hdr = sdk_lock_ready();
    struct nctop_seg_weight *tab;
    uint32_t id, idx, n;
    int rc = 0;

    if (hdr == NULL) {
        return -ECANCELED;
    }
    tab = (struct nctop_seg_weight *)((char *)hdr + hdr->weights_off);
    id = registry_name_locked(hdr, path);
    if (id == 0) {
        /* A valid path that got no id hit a full string table (already counted). */
        rc = registry_name_valid(path) ? -ENOSPC : -EINVAL;
        goto out;
    }
    idx = registry_map_get(&registry_weights, id);
    if (idx != 0) {
        tab[idx - 1].flags = flags;
        atomic_store_explicit(&tab[idx - 1].bytes, bytes, memory_order_relaxed);
        goto out;
    }
    if (bytes == 0) {
        goto out; /* unregistering something never registered */
    }
    n = atomic_load_explicit(&hdr->weights_count, memory_order_relaxed);
    if (n >= hdr->weights_max) {
        atomic_fetch_add_explicit(&hdr->registration_full, 1, memory_order_relaxed);
        rc = -ENOSPC;
        goto out;
    }
    if (registry_map_reserve(&registry_weights) < 0) {
        rc = -ENOMEM;
        goto out;
    }
    tab[n].path_id = id;
    tab[n].flags = flags;
    atomic_store_explicit(&tab[n].bytes, bytes, memory_order_relaxed);
    atomic_store_explicit(&hdr->weights_count, n + 1, memory_order_release);
    registry_map_put(&registry_weights, registry_hash_id(id), id, n + 1);
out:
    sdk_unlock();
    return rc;
}
