/* sr_map.c - string-keyed hash map (FNV-1a, chained buckets, grows at load 1). */
#include "sr_map.h"
#include "sr_alloc.h"
#include "sr_buf.h"

#include <stdlib.h>
#include <string.h>

static size_t hash_key(const char *s)
{
    size_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

void sr_map_init(sr_map *m)
{
    m->nbuckets = 16;
    m->count = 0;
    m->buckets = sr_xcalloc(m->nbuckets, sizeof *m->buckets);
}

void sr_map_free(sr_map *m)
{
    for (size_t i = 0; i < m->nbuckets; i++) {
        sr_map_entry *e = m->buckets[i];
        while (e) {
            sr_map_entry *next = e->next;
            free(e);
            e = next;
        }
    }
    free(m->buckets);
    m->buckets = NULL;
    m->count = m->nbuckets = 0;
}

static sr_map_entry **find(const sr_map *m, const char *key, size_t h)
{
    sr_map_entry **pe = &m->buckets[h & (m->nbuckets - 1)];
    while (*pe && ((*pe)->hash != h || strcmp((*pe)->key, key) != 0))
        pe = &(*pe)->next;
    return pe;
}

void *sr_map_get(const sr_map *m, const char *key)
{
    sr_map_entry *e = *find(m, key, hash_key(key));
    return e ? e->value : NULL;
}

static void grow(sr_map *m)
{
    size_t n = m->nbuckets * 2;
    sr_map_entry **b = sr_xcalloc(n, sizeof *b);
    for (size_t i = 0; i < m->nbuckets; i++) {
        sr_map_entry *e = m->buckets[i];
        while (e) {
            sr_map_entry *next = e->next;
            e->next = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
            e = next;
        }
    }
    free(m->buckets);
    m->buckets = b;
    m->nbuckets = n;
}

void sr_map_set(sr_map *m, const char *key, void *value)
{
    size_t h = hash_key(key);
    sr_map_entry **pe = find(m, key, h);
    if (*pe) {
        (*pe)->value = value;
        return;
    }
    size_t klen = strlen(key) + 1;
    sr_map_entry *e = sr_xmalloc(sizeof *e + klen);
    memcpy(e->key, key, klen);
    e->hash = h;
    e->value = value;
    e->next = NULL;
    *pe = e;
    if (++m->count > m->nbuckets) grow(m);
}

void *sr_map_remove(sr_map *m, const char *key)
{
    sr_map_entry **pe = find(m, key, hash_key(key));
    sr_map_entry *e = *pe;
    if (!e) return NULL;
    void *v = e->value;
    *pe = e->next;
    free(e);
    m->count--;
    return v;
}

void sr_map_each(const sr_map *m, void (*fn)(const char *key, void *value, void *arg), void *arg)
{
    for (size_t i = 0; i < m->nbuckets; i++)
        for (sr_map_entry *e = m->buckets[i]; e; e = e->next)
            fn(e->key, e->value, arg);
}
