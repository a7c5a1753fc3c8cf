/* store_eio.c - sr_store_eio_publish (see store_eio.h). A single command, so
 * no script: the message is delivered or the node is gone. */
#include "store_eio.h"
#include "store_script.h"

#include <stdio.h>
#include <string.h>

int sr_store_eio_publish(sr_store *s, const char *boot, const char *msg, size_t len,
                         sr_store_cb *cb, void *privdata)
{
    char channel[300];
    snprintf(channel, sizeof channel, "%schan:eio:%s", sr_store_config(s)->key_prefix, boot);
    const char *argv[3] = {"PUBLISH", channel, msg};
    size_t lens[3] = {7, strlen(channel), len};
    return sr_store_command(s, 3, argv, lens, cb, privdata);
}
