/* store_memory.c - sr_store_check_eviction (see store_memory.h). */
#include "sr_log.h"
#include "store_memory.h"
#include "store_script.h"

#include <string.h>

/* noeviction never drops a key; volatile-* drop only keys with a TTL, which
 * device-sync state has not unless DEVICE_STATE_TTL bounds it. */
static void on_policy(const sr_reply *reply, void *privdata)
{
    const sr_config *cfg = privdata;
    size_t len = 0;
    const char *policy =
        reply && sr_reply_count(reply) == 2 ? sr_reply_str(sr_reply_at(reply, 1), &len) : NULL;
    if (!policy) {
        sr_log_info("redis: could not read maxmemory-policy (CONFIG GET refused?): make sure it "
                    "is noeviction, or accounts and device-sync state may be evicted");
        return;
    }
    bool safe = (len == 10 && !memcmp(policy, "noeviction", 10)) ||
                (cfg->device_state_ttl == 0 && len > 9 && !memcmp(policy, "volatile-", 9));
    if (!safe)
        sr_log_warn("redis: maxmemory-policy is %.*s: under memory pressure Redis may evict "
                    "accounts, device records and device-sync state, which have no TTL "
                    "(set maxmemory-policy noeviction)",
                    (int)len, policy);
}

void sr_store_check_eviction(sr_store *s)
{
    const char *argv[3] = {"CONFIG", "GET", "maxmemory-policy"};
    sr_store_command(s, 3, argv, NULL, on_policy, (void *)sr_store_config(s));
}
