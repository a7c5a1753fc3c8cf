/* store_eio.c - sr_store_eio_publish (see store_eio.h). A single command, so
 * no script: the message is delivered or the node is gone. */
#include "store_eio.h"
#include "store_script.h"

#include <stdio.h>
#include <string.h>

/* the number of subscribers that got it */
static void on_published(const sr_reply *reply, void (*cb)(void), void *arg)
{
    bool delivered = reply && sr_reply_type(reply) == SR_REPLY_INT && sr_reply_int(reply) >= 1;
    ((sr_store_eio_cb *)cb)(delivered, arg);
}

void sr_store_eio_publish(sr_store *s, const char *boot, const char *msg, size_t len,
                          sr_store_eio_cb *cb, void *arg)
{
    char channel[300];
    snprintf(channel, sizeof channel, "%schan:eio:%s", sr_store_config(s)->key_prefix, boot);
    const char *argv[3] = {"PUBLISH", channel, msg};
    size_t lens[3] = {7, strlen(channel), len};
    sr_store_command_call(s, 3, argv, lens, on_published, (void (*)(void))cb, arg);
}
