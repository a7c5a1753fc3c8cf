#include "check.h"
#include "sr_map.h"

#include <stdint.h>

int main(void)
{
    sr_map m;
    char key[32];
    sr_map_init(&m);
    for (intptr_t i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "k%ld", (long)i);
        sr_map_set(&m, key, (void *)(i + 1));
    }
    CHECK(m.count == 5000);
    CHECK(sr_map_get(&m, "k4321") == (void *)4322);
    CHECK(sr_map_remove(&m, "k4321") == (void *)4322 && sr_map_get(&m, "k4321") == NULL);
    sr_map_set(&m, "k1", (void *)7);
    CHECK(sr_map_get(&m, "k1") == (void *)7 && m.count == 4999);
    CHECK(sr_map_remove(&m, "absent") == NULL);
    sr_map_free(&m);
    return check_done("map");
}
