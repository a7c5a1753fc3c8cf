/* sr_map.h - a string-keyed hash map (chained, power-of-two buckets). Keys are
 * copied; values are the caller's. */
#ifndef SR_MAP_H
#define SR_MAP_H

#include <stddef.h>

typedef struct sr_map_entry {
    struct sr_map_entry *next;
    void *value;
    size_t hash;
    char key[];
} sr_map_entry;

typedef struct sr_map {
    sr_map_entry **buckets;
    size_t nbuckets, count;
} sr_map;

void sr_map_init(sr_map *m);
void sr_map_free(sr_map *m); /* frees entries, not values */
void *sr_map_get(const sr_map *m, const char *key);
void sr_map_set(sr_map *m, const char *key, void *value);
void *sr_map_remove(sr_map *m, const char *key);
/* Calls fn for each entry; fn must not change the map. */
void sr_map_each(const sr_map *m, void (*fn)(const char *key, void *value, void *arg), void *arg);

#endif
