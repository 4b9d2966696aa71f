#ifndef WORK_QUEUE_CRABBITMQ_SHIM_H
#define WORK_QUEUE_CRABBITMQ_SHIM_H

/* rabbitmq-c moved its headers under rabbitmq-c/ in 0.12; Debian 12 ships 0.11. */
#if __has_include(<rabbitmq-c/amqp.h>)
#include <rabbitmq-c/amqp.h>
#include <rabbitmq-c/framing.h>
#include <rabbitmq-c/tcp_socket.h>
#include <rabbitmq-c/ssl_socket.h>
#else
#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <amqp_ssl_socket.h>
#endif

/* Why: amqp_login_with_properties is C-variadic, which Swift cannot call. PLAIN takes user
 * then password. The client properties announce two capabilities (rabbitmq-c merges them with
 * its own): connection.blocked, so the broker says when a resource alarm blocks publishing, and
 * authentication_failure_close, so a refused login is a connection.close 403, not a dropped
 * socket. Not consumer_cancel_notify: RabbitMQ 4.3+ would then answer a delivery held past its
 * consumer_timeout with basic.cancel instead of closing the channel, reclaiming the item without
 * saying why or how long (the processor learns the timeout from the close); so a deleted queue
 * is not told to its consumers, and the processor looks at the queue while it works.
 * `name` is shown as the connection's name in the broker's tools. */
static inline amqp_rpc_reply_t wq_amqp_login_plain(amqp_connection_state_t state,
                                                   const char *vhost, int frame_max,
                                                   int heartbeat, const char *user,
                                                   const char *password, const char *name) {
  amqp_table_entry_t capabilities[2];
  capabilities[0].key = amqp_cstring_bytes("connection.blocked");
  capabilities[0].value.kind = AMQP_FIELD_KIND_BOOLEAN;
  capabilities[0].value.value.boolean = 1;
  capabilities[1].key = amqp_cstring_bytes("authentication_failure_close");
  capabilities[1].value.kind = AMQP_FIELD_KIND_BOOLEAN;
  capabilities[1].value.value.boolean = 1;
  amqp_table_entry_t entries[2];
  entries[0].key = amqp_cstring_bytes("capabilities");
  entries[0].value.kind = AMQP_FIELD_KIND_TABLE;
  entries[0].value.value.table.num_entries = 2;
  entries[0].value.value.table.entries = capabilities;
  entries[1].key = amqp_cstring_bytes("connection_name");
  entries[1].value.kind = AMQP_FIELD_KIND_UTF8;
  entries[1].value.value.bytes = amqp_cstring_bytes(name);
  amqp_table_t properties;
  properties.num_entries = 2;
  properties.entries = entries;
  return amqp_login_with_properties(state, vhost, 0, frame_max, heartbeat, &properties,
                                    AMQP_SASL_METHOD_PLAIN, user, password);
}

#endif
